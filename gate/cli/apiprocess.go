package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/demo"
	"github.com/perfgate/perfgate/gate/internal/safetext"
)

// apiProcess is the sample API in a process of its own (perfgate serve-demo), as a
// stress test's target is: its metrics are then its own, not perfgate's.
type apiProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startAPIProcess runs `self serve-demo` with opts on a free loopback port, and returns
// once it listens.
func startAPIProcess(ctx context.Context, self string, opts demo.Options) (*apiProcess, error) {
	args := []string{"serve-demo", "--addr", "127.0.0.1:0",
		"--latency", opts.Latency.String(), "--jitter", opts.Jitter.String(),
		"--pool", strconv.Itoa(opts.Pool), "--cpu-work", opts.CPUWork.String(),
		"--error-rate", strconv.FormatFloat(opts.ErrorRate, 'g', -1, 64),
		"--capacity", strconv.FormatFloat(opts.Capacity, 'g', -1, 64),
		"--leak", opts.Leak.String(), "--seed", strconv.FormatUint(opts.Seed, 10)}
	if opts.FallOver {
		args = append(args, "--fall-over")
	}
	if opts.LeakMemory > 0 {
		args = append(args, "--leak-memory", strconv.FormatInt(opts.LeakMemory, 10))
	}
	if opts.MemoryLimit > 0 {
		args = append(args, "--memory-limit", strconv.FormatInt(opts.MemoryLimit, 10))
	}
	cmd := exec.Command(self, args...)
	cmd.SysProcAttr = endWithParent()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &apiProcess{cmd: cmd, done: make(chan struct{})}
	// The first line says where it listens: "sample API listening on http://...".
	lines := bufio.NewScanner(out)
	first := make(chan string, 1)
	go func() {
		if lines.Scan() {
			first <- lines.Text()
		}
		close(first)
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case line, ok := <-first:
		rest, found := strings.CutPrefix(line, "sample API listening on ")
		if ok && found {
			p.url, _, _ = strings.Cut(rest, " ")
			return p, nil
		}
		p.stop()
		if !ok {
			return nil, errors.New("the sample API's process ended before it listened")
		}
		return nil, fmt.Errorf("the sample API's process said %q", safetext.Line(line))
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("the sample API's process did not listen within 30s")
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop interrupts the process and waits for it to end, killing it after 5 seconds.
func (p *apiProcess) stop() {
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		_ = p.cmd.Process.Kill() // no interrupt to send on this system
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
