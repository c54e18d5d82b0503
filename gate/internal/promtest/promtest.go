// Package promtest runs a real Prometheus server for tests.
package promtest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/loopback"
)

// Start runs a real Prometheus server (Debian's prometheus package) on loopback,
// scraping target (host:port, its /metrics) every second as job "target", and returns
// its URL once it has scraped it, and a function that stops it (also called when the
// test ends).
func Start(t *testing.T, target string) (url string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("needs a Prometheus server: apt-get install prometheus (.ci/run installs it)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	doc := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: target\n    static_configs: [{targets: ['%s']}]\n", target)
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := loopback.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	url = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + `/api/v1/query?query=up{job="target"}`)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), `"1"]`) {
				return url, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape the target within 30 s:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
