package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/report"
)

func writeText(w io.Writer, _ *report.Result) error {
	_, err := io.WriteString(w, "the report\n")
	return err
}

// A named pipe is written straight into, when something reads it; with no reader it is
// an error at once, not a wait forever.
func TestReportIntoAPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	if err := writeFile(fifo, nil, writeText); err == nil || !strings.Contains(err.Error(), "nothing reads from") {
		t.Errorf("a pipe without a reader: %v", err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(fifo) // blocks until the writer opens it
		if err != nil {
			got <- err.Error()
			return
		}
		data, _ := io.ReadAll(f)
		f.Close()
		got <- string(data)
	}()
	var err error
	for range 400 { // the reader opens the pipe soon
		if err = writeFile(fifo, nil, writeText); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil || <-got != "the report\n" {
		t.Errorf("a pipe with a reader: %v", err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v", err)
	}
}
