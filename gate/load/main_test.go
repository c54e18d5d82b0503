package load

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain runs the tests as the perfgate binary runs its engine: with a spare Go
// processor when the tests get one CPU (SpareProcessor), which an event loop waiting in
// epoll counts on to keep its own. Run with closingServerEnv set, the test binary is
// instead a target in a process of its own (see closingTarget).
func TestMain(m *testing.M) {
	if os.Getenv(closingServerEnv) != "" {
		serveClosing()
		return
	}
	SpareProcessor()
	os.Exit(m.Run())
}

// closingServerEnv makes the test binary a target that closes every connection.
const closingServerEnv = "PERFGATE_TEST_CLOSING_SERVER"

// closingTarget starts, in a process of its own, a loopback target that answers one
// request a connection and closes it, and returns its address. In its own process its
// accepts wait for no processor of the tests' runtime, as a real target's would not: an
// event loop holds its processor while it waits in epoll, and a target in the tests'
// process then waits for one to be lent back.
func closingTarget(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), closingServerEnv+"=1")
	stdin, err := cmd.StdinPipe() // closed by the test's end: the target then exits
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the target did not start: %v", err)
	}
	return strings.TrimSpace(line)
}

// serveClosing is the closing target: it prints its address, then answers each
// connection's first request and closes it, until its standard input ends.
func serveClosing() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(ln.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(2)
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if line == "\r\n" {
					break
				}
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
		}()
	}
}
