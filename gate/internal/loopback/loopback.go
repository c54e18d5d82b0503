// Package loopback is test servers on 127.0.0.1 that speak HTTP by hand: the bytes a
// test scripts, as fast as a server can, or not HTTP at all. Each stops when its test
// ends.
package loopback

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Serve serves every connection accepted on loopback with handle, each in its own
// goroutine, and closes it when handle returns. It returns the address, host:port.
func Serve(tb testing.TB, handle func(net.Conn)) string {
	tb.Helper()
	return serveOn(listen(tb), handle)
}

// ServeTLS is Serve over TLS with config.
func ServeTLS(tb testing.TB, config *tls.Config, handle func(net.Conn)) string {
	tb.Helper()
	return serveOn(tls.NewListener(listen(tb), config), handle)
}

func serveOn(ln net.Listener, handle func(net.Conn)) string {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// Scripted answers the requests on each connection, one at a time (a head, and a body
// of its Content-Length), with the next of responses, sent by write; after the last it
// closes the connection. conns counts the connections accepted.
func Scripted(tb testing.TB, write func(c net.Conn, resp string) error, responses ...string) (addr string, conns *atomic.Int64) {
	tb.Helper()
	return ScriptedTLS(tb, nil, write, responses...)
}

// ScriptedTLS is Scripted over TLS with config, or plain when config is nil.
func ScriptedTLS(tb testing.TB, config *tls.Config, write func(c net.Conn, resp string) error, responses ...string) (addr string, conns *atomic.Int64) {
	tb.Helper()
	conns = &atomic.Int64{}
	ln := listen(tb)
	if config != nil {
		ln = tls.NewListener(ln, config)
	}
	addr = serveOn(ln, func(c net.Conn) {
		conns.Add(1)
		r := bufio.NewReader(c)
		for _, resp := range responses {
			length := 0
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if n, ok := strings.CutPrefix(line, "Content-Length: "); ok {
					fmt.Sscanf(n, "%d", &length)
				}
				if line == "\r\n" {
					break
				}
			}
			if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
				return
			}
			if err := write(c, resp); err != nil {
				return
			}
		}
	})
	return addr, conns
}

// Write sends a response whole: Scripted's usual write.
func Write(c net.Conn, resp string) error {
	_, err := io.WriteString(c, resp)
	return err
}

// Fixed answers every request (a head without a body) with resp, as fast as a server
// can: benchmarks of a client measure the client alone.
func Fixed(tb testing.TB, resp []byte) string {
	tb.Helper()
	return Serve(tb, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) == 2 {
					break
				}
			}
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	})
}

// RefusingAfterFirst answers the first request (a run's probe) with 200 and then stops
// listening, so that every connection after it is refused: a target that went down as
// the load began.
func RefusingAfterFirst(tb testing.TB) string {
	tb.Helper()
	ln := listen(tb)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_ = Write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}()
	return ln.Addr().String()
}

// listen listens on a free loopback port until the test ends.
func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// FreeAddr is a loopback address with a port free a moment ago, for a server the test
// starts in another process.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln := listen(tb)
	defer ln.Close()
	return ln.Addr().String()
}

// Certificate is a self-signed certificate for 127.0.0.1, ::1 and localhost, valid for
// an hour: a TLS server's (ServerConfig) and its PEM, for a client to trust.
func Certificate(tb testing.TB) (cert tls.Certificate, pemCert []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "perfgate test"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ServerConfig is a TLS server's configuration with cert, offering protocols by ALPN
// ("http/1.1", "h2"; none: no ALPN).
func ServerConfig(cert tls.Certificate, protocols ...string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protocols, MinVersion: tls.VersionTLS12}
}
