package load

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// nginxTLS starts Debian's nginx on loopback with a certificate made for the test,
// serving a small body over TLS on one port with HTTP/2 offered by ALPN beside
// HTTP/1.1, and returns that port's address and the CA file that trusts it.
func nginxTLS(t *testing.T) (addr, caFile string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Fatal("needs nginx: apt-get install nginx-light (.ci/run installs it)")
	}
	dir := t.TempDir()
	cert, certPEM := loopback.Certificate(t)
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "cert.pem")
	files := map[string][]byte{
		"cert.pem": certPEM,
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
	}
	addr = loopback.FreeAddr(t)
	// One process, no master: a killed master leaves its workers behind, serving on.
	files["nginx.conf"] = fmt.Appendf(nil, `master_process off;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  http2_max_requests 1000000;
  client_body_temp_path %[1]s;
  server {
    listen %[2]s ssl http2;
    ssl_certificate %[1]s/cert.pem;
    ssl_certificate_key %[1]s/key.pem;
    location / { default_type text/plain; return 200 'hello from nginx'; }
  }
}
`, dir, addr)
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// nginx 1.22 (Debian 12): "listen ... http2", not 1.25's "http2 on".
	out, err := os.Create(filepath.Join(dir, "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, caFile
		}
		if time.Now().After(deadline) {
			said, _ := os.ReadFile(filepath.Join(dir, "out.log"))
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen on %s: %s%s", addr, said, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Against nginx, a real server of both: HTTP/2 where it is offered (net/http), and the
// lean client's HTTP/1.1 over TLS when the config asks for it, on the event loop and in
// users' goroutines.
func TestNginxOverTLS(t *testing.T) {
	addr, ca := nginxTLS(t)
	_, port, _ := net.SplitHostPort(addr)
	doc := "target: https://localhost:" + port + "\nload: {users: 4, spawn_rate: 100, duration: 300ms}\ntasks: [{path: /x}]\ntls: {ca_file: " + ca
	for _, tc := range []struct {
		name, tls, protocol, client string
		opts                        []Option
	}{
		{"auto", "}", "h2", "net/http", nil},
		{"http/1.1 on the event loop", ", protocol: http/1.1}", "http/1.1", "fast", nil},
		{"http/1.1 in goroutines", ", protocol: http/1.1}", "http/1.1", "fast", []Option{WithoutEventLoop()}},
	} {
		e, samples := runHTTPS(t, doc+tc.tls+"\n", tc.opts...)
		h := e.handshakes.get()
		if e.plan.Protocol != tc.protocol || e.Client() != tc.client || h.Count != 4 {
			t.Errorf("%s: protocol %q, client %s, handshakes %+v", tc.name, e.plan.Protocol, e.Client(), h)
		}
		for _, s := range samples {
			if s.Bytes != int64(len("hello from nginx")) {
				t.Fatalf("%s: a response of %d bytes", tc.name, s.Bytes)
			}
		}
	}
}
