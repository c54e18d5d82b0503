package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/internal/userfile"
	"github.com/perfgate/perfgate/gate/merge"
	"github.com/perfgate/perfgate/gate/report"
)

// merge judges the results of a run's shards as one run.
func (c *Command) merge(ctx context.Context, args []string) int {
	f := &runFlags{}
	fs := c.newFlagSet("merge", "merge SHARD.json... [flags]",
		"Judges a run split over several processes (perfgate run --shard I --shards N) as one run:\n"+
			"checks that the shards' JSON results are every shard of one run of this config (the same\n"+
			"config, thresholds and flags, each shard once, every one of them having delivered its\n"+
			"load, their holds begun together), adds their histograms up exactly, whole holds and each\n"+
			"time window, then judges the thresholds and writes the reports and the exit code as run\n"+
			"does. A folder stands for the .json files in it. Shards that do not make one run leave it\n"+
			"without a verdict (exit 3), each named.")
	addRunFlags(fs, f, defaultConfig)
	var wait durationFlag
	fs.Var(&wait, "wait", "wait up to `D` for every shard's result to be there (shards that write to a shared folder)")
	// The result files come first: take them off before the flags.
	var paths []string
	for len(args) > 0 && (args[0] == "" || args[0][0] != '-') {
		paths, args = append(paths, args[0]), args[1:]
	}
	if code, done := c.parse(fs, args); done {
		return code
	}
	f.visited(fs)
	if f.set["shard"] || f.set["shards"] || f.set["start-at"] {
		c.errorf("merge: --shard, --shards and --start-at are the shards' own: the merge judges the whole run")
		return ExitUsage
	}
	if len(paths) == 0 {
		c.errorf("merge: %v", errNoShards)
		return ExitUsage
	}
	deadline := time.Now().Add(wait.d)
	var shards []merge.Shard
	for {
		var err error
		shards, err = readShards(paths, wait.d > 0)
		if err != nil && wait.d == 0 {
			c.errorf("merge: %v", err)
			return ExitUsage
		}
		if err == nil && complete(shards) || !time.Now().Before(deadline) {
			if err != nil {
				c.errorf("merge: after waiting %s: %v", wait.d, err)
				return ExitInvalid
			}
			break
		}
		select {
		case <-ctx.Done():
			c.errorf("merge: cancelled while waiting for the shards' results")
			return ExitInvalid
		case <-time.After(2 * time.Second):
		}
	}
	if len(shards) == 0 {
		c.errorf("merge: no shard's result in %s", strings.Join(paths, ", "))
		return ExitInvalid
	}
	if _, err := os.Stat(f.config); err != nil && !f.set["config"] {
		c.errorf("no %s in this folder: pass -c FILE, the config every shard ran", f.config)
		return ExitUsage
	}
	p, err := c.loadPlan(source{name: f.config}, f)
	if err != nil {
		c.userError(err)
		return ExitUsage
	}
	m, err := merge.Merge(p, shards)
	if err != nil {
		c.errorf("merge: %v", err)
		return ExitInvalid
	}
	out := &lockedWriter{w: c.Stdout}
	if m.Record == nil {
		for _, pr := range m.Problems {
			c.errorf("merge: %s", pr)
		}
		c.errorf("merge: no shard's result could be merged: no verdict (exit %d)", ExitInvalid)
		return ExitInvalid
	}
	c.say(out, "perfgate %s: %d shard results of %s merged\n", version(), len(shards), p.RedactedTarget())
	for _, s := range m.Shards {
		c.say(out, "  shard %d: %s, hold began %+.3fs after the first shard's\n", s.Index+1, s.File, s.SkewSeconds)
	}
	var gh *report.GitHub
	if report.GitHubEnabled(c.getenv) {
		gh = report.NewGitHub(c.getenv, out)
		if err := gh.Mask(p.Secrets...); err != nil {
			c.errorf("cannot mask secrets in the log: %v", err)
			return ExitInvalid
		}
	}
	return c.publish(ctx, p, f, m.Record, gh, out, published{shards: m.Shards, problems: m.Problems})
}

// readShards reads the shards' results: the files named, a folder standing for the .json
// files in it that are shards' results (a merged result beside them is left alone), in
// order of name. Waiting, a file not there yet is no error.
func readShards(paths []string, waiting bool) ([]merge.Shard, error) {
	var out []merge.Shard
	for _, p := range paths {
		info, err := os.Stat(p)
		if err == nil && info.IsDir() {
			found, err := filepath.Glob(filepath.Join(p, "*.json"))
			if err != nil {
				return nil, err
			}
			sort.Strings(found)
			for _, file := range found {
				s, err := readShard(file)
				if err != nil {
					return nil, err
				}
				if s.Result.Shard != nil {
					out = append(out, s)
				}
			}
			continue
		}
		if waiting && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		s, err := readShard(p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func readShard(path string) (merge.Shard, error) {
	data, err := userfile.Read("shard result", path)
	if err != nil {
		return merge.Shard{}, err
	}
	res, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return merge.Shard{}, fmt.Errorf("%s: %v", path, err)
	}
	return merge.Shard{Path: path, Result: res}, nil
}

// complete reports whether shards holds a result of every shard its first one counts.
func complete(shards []merge.Shard) bool {
	if len(shards) == 0 || shards[0].Result.Shard == nil {
		return len(shards) > 0
	}
	seen := map[int]bool{}
	for _, s := range shards {
		if sh := s.Result.Shard; sh != nil {
			seen[sh.Index] = true
		}
	}
	return len(seen) >= shards[0].Result.Shard.Of
}

var errNoShards = errors.New("name the shards' result files (or a folder of them), as in perfgate merge results/*.json -c perfgate.yaml")
