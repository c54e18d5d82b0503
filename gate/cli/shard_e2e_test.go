package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/internal/junitxsd"
)

// perfgateAll runs the binary once for each of args in dir, all at once, and waits for
// every one, up to a bound.
func perfgateAll(t *testing.T, dir string, timeout time.Duration, args ...[]string) []result {
	t.Helper()
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out := make([]result, len(args))
	errs := make([]error, len(args))
	var wg sync.WaitGroup
	for i, a := range args {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, bin, a...)
			cmd.Dir, cmd.Env = dir, suiteEnv()
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				errs[i] = err
			}
			out[i] = result{cmd.ProcessState.ExitCode(), o.String(), e.String()}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the shards did not finish within %v", timeout)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("perfgate %v: %v", args[i], err)
		}
	}
	return out
}

// Three shards of one run, local processes started together at a common time against
// the sample API, then merged: one verdict on every shard's requests, the plan's users
// in all, each shard's start skew in the result; and the merge refuses a shard missing
// or of another config, naming it.
func TestE2EShardsMergeIntoOneVerdict(t *testing.T) {
	t.Parallel()
	addr, _ := serveDemo(t, "--latency", "1ms", "--jitter", "2ms")
	dir := demoFiles(t)
	if err := os.MkdirAll(filepath.Join(dir, "results"), 0o755); err != nil {
		t.Fatal(err)
	}
	load := []string{"--target", "http://" + addr, "--users", "30", "--spawn-rate", "30", "--think", "40ms..60ms",
		"--duration", "4s", "--progress", "500ms"}
	at := time.Now().Add(4 * time.Second).UTC().Truncate(time.Second).Add(time.Second).Format(time.RFC3339)
	var runs [][]string
	for i := 1; i <= 3; i++ {
		runs = append(runs, append([]string{"run", "--shards", "3", "--shard", fmt.Sprint(i), "--start-at", at,
			"--json", fmt.Sprintf("results/shard-%d.json", i)}, load...))
	}
	shards := perfgateAll(t, dir, 2*time.Minute, runs...)
	var held int64
	for i, r := range shards {
		if r.code != ExitPass {
			t.Fatalf("shard %d: exit %d\n%s%s", i+1, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, fmt.Sprintf("shard %d of 3: this process sends its share", i+1)) || !strings.Contains(r.stdout, "the load begins at "+at) {
			t.Errorf("shard %d says:\n%s", i+1, r.stdout)
		}
		res := readResultFile(t, filepath.Join(dir, "results", fmt.Sprintf("shard-%d.json", i+1)), r)
		if res.Shard == nil || res.Shard.Index != i || res.Shard.Of != 3 || len(res.Checks) != 0 {
			t.Fatalf("shard %d: %+v, %d checks", i+1, res.Shard, len(res.Checks))
		}
		if u := res.Phases[0].Delivery.PlannedUsers; u != 10 {
			t.Errorf("shard %d planned %d users, want 10", i+1, u)
		}
		held += res.Phases[0].Hold.All.Requests
	}

	m := perfgate(t, dir, time.Minute, append([]string{"merge", "results", "--json", "merged.json", "--junit", "merged.xml"}, load...)...)
	if m.code != ExitPass {
		t.Fatalf("merge: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	res := readResultFile(t, filepath.Join(dir, "merged.json"), m)
	if res.Shard != nil || len(res.Shards) != 3 || res.Verdict != "pass" || len(res.Checks) == 0 {
		t.Fatalf("merged: shard %+v, shards %+v, verdict %s, %d checks", res.Shard, res.Shards, res.Verdict, len(res.Checks))
	}
	ph := res.Phases[0]
	if ph.Hold.All.Requests != held || ph.Delivery.PlannedUsers != 30 || ph.Delivery.PeakUsers != 30 {
		t.Errorf("merged hold: %d requests of the shards' %d, %d users planned, %d at peak; want 30", ph.Hold.All.Requests, held, ph.Delivery.PlannedUsers, ph.Delivery.PeakUsers)
	}
	for _, s := range res.Shards {
		if s.SkewSeconds < 0 || s.SkewSeconds > 0.25 {
			t.Errorf("shard %d began %vs after the first", s.Index+1, s.SkewSeconds)
		}
	}
	for _, want := range []string{"3 shard results of http://" + addr + " merged", "Verdict: PASS"} {
		if !strings.Contains(m.stdout, want) {
			t.Errorf("merge stdout lacks %q:\n%s", want, m.stdout)
		}
	}
	junitxsd.Validate(t, filepath.Join(dir, "merged.xml"))

	for _, tc := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"missing", append([]string{"merge", "results/shard-1.json", "results/shard-3.json", "--json", "missing.json"}, load...), []string{"shard 2 of 3 is missing"}},
		{"another config", append(append([]string{"merge", "results", "--json", "other.json"}, load...), "--users", "31"), []string{"ran another config or thresholds than this merge's"}},
	} {
		r := perfgate(t, dir, time.Minute, tc.args...)
		if r.code != ExitInvalid {
			t.Errorf("%s: exit %d, want 3\n%s%s", tc.name, r.code, r.stdout, r.stderr)
		}
		for _, want := range tc.wants {
			if !strings.Contains(r.stdout+r.stderr, want) {
				t.Errorf("%s: the output lacks %q:\n%s%s", tc.name, want, r.stdout, r.stderr)
			}
		}
	}
}
