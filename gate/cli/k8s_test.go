package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestK8sJobPrintsTheShardsAndTheMerge: k8s-job prints a ConfigMap with the config, each
// thresholds file and its baseline at the paths the pods' flags name, an Indexed Job of
// the shards (each tried once, the whole Job failed on a bad config, a common start ahead),
// and a merge Job that waits for their results; the run flags given go to both.
func TestK8sJobPrintsTheShardsAndTheMerge(t *testing.T) {
	dir := demoFiles(t)
	th := "baseline: base.json\ncapacity:\n  - capacity > baseline - 10%\n"
	if err := os.WriteFile(filepath.Join(dir, "thresholds", "regress.yaml"), []byte(th), 0o644); err != nil {
		t.Fatal(err)
	}
	base := `{"version": "perfgate.baseline/v2", "capacity": {"unit": "rate", "searches": [{"capacity": 400, "bracket_low": 400, "bracket_high": 410}]}}`
	if err := os.WriteFile(filepath.Join(dir, "thresholds", "base.json"), []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	code, out, errs := invoke(t, dir, nil, "k8s-job", "--shards", "8", "--results-claim", "perf-results", "--secret", "perf-env",
		"--name", "rc-42", "--users", "400", "--thresholds", "thresholds/demo.yaml", "--thresholds", "thresholds/regress.yaml")
	if code != ExitPass {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		docs = append(docs, d)
	}
	if len(docs) != 3 || docs[0]["kind"] != "ConfigMap" || docs[1]["kind"] != "Job" || docs[2]["kind"] != "Job" {
		t.Fatalf("objects: %v", out)
	}
	get := func(v any, path ...any) any {
		for _, k := range path {
			switch k := k.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	data := docs[0]["data"].(map[string]any)
	var paths []string
	for _, it := range get(docs[1], "spec", "template", "spec", "volumes", 0, "configMap", "items").([]any) {
		item := it.(map[string]any)
		paths = append(paths, item["path"].(string))
		if data[item["key"].(string)] == nil {
			t.Errorf("item %v has no data", item)
		}
	}
	if want := []string{"perfgate.yaml", "t0/demo.yaml", "t1/regress.yaml", "t1/base.json"}; !slices.Equal(paths, want) {
		t.Errorf("files %v, want %v", paths, want)
	}
	spec := docs[1]["spec"].(map[string]any)
	if spec["completionMode"] != "Indexed" || spec["completions"] != 8 || spec["parallelism"] != 8 || spec["backoffLimitPerIndex"] != 0 {
		t.Errorf("shards' Job: %v", spec)
	}
	rule := get(spec, "podFailurePolicy", "rules", 0).(map[string]any)
	if rule["action"] != "FailJob" || !slices.Equal(get(rule, "onExitCodes", "values").([]any), []any{ExitUsage}) {
		t.Errorf("pod failure policy %v", rule)
	}
	pod := get(spec, "template", "spec").(map[string]any)
	if pod["restartPolicy"] != "Never" || get(pod, "containers", 0, "envFrom", 0, "secretRef", "name") != "perf-env" ||
		get(pod, "volumes", 1, "persistentVolumeClaim", "claimName") != "perf-results" {
		t.Errorf("pod %v", pod)
	}
	args := strings.Join(toStrings(get(pod, "containers", 0, "args").([]any)), " ")
	for _, want := range []string{"run -c /config/perfgate.yaml --thresholds /config/t0/demo.yaml --thresholds /config/t1/regress.yaml",
		"--users=400", "--shards 8 --start-at ", "--json /results/rc-42/shard-$(JOB_COMPLETION_INDEX).json --junit "} {
		if !strings.Contains(args, want) {
			t.Errorf("shard args %q lack %q", args, want)
		}
	}
	i := strings.Index(args, "--start-at ") + len("--start-at ")
	at, err := time.Parse(time.RFC3339, strings.Fields(args[i:])[0])
	if err != nil || at.Before(before.Add(time.Minute)) || at.After(time.Now().Add(3*time.Minute)) {
		t.Errorf("start at %v (%v), want about 2 minutes ahead", at, err)
	}
	margs := strings.Join(toStrings(get(docs[2], "spec", "template", "spec", "containers", 0, "args").([]any)), " ")
	for _, want := range []string{"merge /results/rc-42 -c /config/perfgate.yaml", "--users=400", "--wait 30m0s", "--json /results/rc-42/result.json"} {
		if !strings.Contains(margs, want) {
			t.Errorf("merge args %q lack %q", margs, want)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--results-claim", "r"}, "--shards N is how many pods"},
		{[]string{"--shards", "4"}, "--results-claim names"},
		{[]string{"--shards", "4", "--results-claim", "Results"}, "are Kubernetes names"},
		{[]string{"--shards", "4", "--results-claim", "r", "--shard", "2"}, "each pod is its own shard"},
		{[]string{"--shards", "400", "--results-claim", "r"}, "200 users are fewer than the 400 shards"},
	} {
		code, _, errs := invoke(t, dir, nil, append([]string{"k8s-job"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

func toStrings(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i], _ = v.(string)
	}
	return out
}
