package load

import (
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Errors of perfgate's own resources, however the clients wrap them, are the generator's;
// the target's own refusals and resets stay the target's.
func TestGeneratorFailuresAreClassified(t *testing.T) {
	wrap := func(op string, errno syscall.Errno) error {
		return fmt.Errorf("request: %w", &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, errno)})
	}
	for _, tc := range []struct {
		err  error
		want Kind
		says string
	}{
		{wrap("socket", syscall.EMFILE), Generator, "ulimit -n"},
		{wrap("socket", syscall.ENFILE), Generator, "fs.file-max"},
		{wrap("connect", syscall.EADDRNOTAVAIL), Generator, "ip_local_port_range"},
		{wrap("write", syscall.ENOBUFS), Generator, "socket buffers"},
		{wrap("socket", syscall.ENOMEM), Generator, "memory"},
		{wrap("connect", syscall.ECONNREFUSED), ConnRefused, ""},
		{wrap("read", syscall.ECONNRESET), ConnReset, ""},
		{wrap("connect", syscall.ENETUNREACH), Transport, ""},
	} {
		if k := classify(tc.err); k != tc.want {
			t.Errorf("%v: kind %v, want %v", tc.err, k, tc.want)
		}
		if say := describe(classify(tc.err), tc.err); tc.says != "" && !strings.Contains(say, tc.says) {
			t.Errorf("%v: described %q, want it to say %q", tc.err, say, tc.says)
		}
	}
	if Generator.String() != "generator" {
		t.Errorf("Generator is named %q", Generator)
	}
}
