package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
)

// k8sJob prints the Kubernetes objects that run a sharded run and merge it: a ConfigMap
// with the files the run reads, an Indexed Job of the shards, and a Job that waits for
// their results and merges them.
func (c *Command) k8sJob(args []string) int {
	f := &runFlags{}
	var name, image, claim, secret string
	var startIn, wait durationFlag
	fs := c.newFlagSet("k8s-job", "k8s-job --shards N [flags] > perfgate.k8s.yaml",
		"Prints the Kubernetes objects that run this config's load split over --shards pods and\n"+
			"judge it as one run, for kubectl apply -f: a ConfigMap holding the config, thresholds,\n"+
			"baselines and CA it reads; an Indexed Job whose pod I sends shard I's share (each pod\n"+
			"tried once: backoffLimitPerIndex 0, since a shard run again would change the load it\n"+
			"delivers; and a podFailurePolicy that fails the whole Job on exit 2, a bad config); and\n"+
			"a Job that waits for every shard's result and merges them (perfgate merge), whose exit\n"+
			"code is the verdict. The shards write their results to the folder --name of the volume\n"+
			"of --results-claim (a PersistentVolumeClaim every pod can mount: ReadWriteMany; give each\n"+
			"run a --name of its own), and begin together at\n"+
			"--start-in after now. Run flags given here (--target, --users, --duration...) go to\n"+
			"every shard and to the merge.")
	addRunFlags(fs, f, defaultConfig)
	fs.StringVar(&name, "name", "perfgate", "`name` of the Jobs and the ConfigMap")
	fs.StringVar(&image, "image", "ghcr.io/perfgate/perfgate:1", "container `image` of perfgate")
	fs.StringVar(&claim, "results-claim", "", "PersistentVolumeClaim `name` the shards write their results to and the merge reads (ReadWriteMany)")
	fs.StringVar(&secret, "secret", "", "Secret `name` whose keys become every pod's environment (the config's ${VARS}: passwords, the target)")
	startIn = durationFlag{d: 2 * time.Minute}
	fs.Var(&startIn, "start-in", "when the shards begin their load, `D` after now: time enough for every pod to be scheduled and started (default 2m)")
	wait = durationFlag{d: 30 * time.Minute}
	fs.Var(&wait, "merge-wait", "how long `D` the merge waits for every shard's result (default 30m)")
	if code, done := c.parse(fs, args); done {
		return code
	}
	f.visited(fs)
	switch {
	case !f.set["shards"]:
		c.errorf("k8s-job: --shards N is how many pods share the load")
		return ExitUsage
	case claim == "":
		c.errorf("k8s-job: --results-claim names the PersistentVolumeClaim (ReadWriteMany) the shards write their results to and the merge reads")
		return ExitUsage
	case f.set["shard"] || f.set["start-at"]:
		c.errorf("k8s-job: each pod is its own shard (JOB_COMPLETION_INDEX), and --start-in sets their start")
		return ExitUsage
	}
	if !dnsLabel(name) || (secret != "" && !dnsLabel(secret)) || !dnsLabel(claim) {
		c.errorf("k8s-job: --name, --secret and --results-claim are Kubernetes names: lower-case letters, digits and -, at most 63")
		return ExitUsage
	}
	shards := f.shards
	f.set["shards"], f.set["shard"], f.shard = true, true, 1
	p, err := c.loadPlan(source{name: f.config}, f)
	if err != nil {
		c.userError(err)
		return ExitUsage
	}
	files, flags, err := podFiles(p, f)
	if err != nil {
		c.errorf("k8s-job: %v", err)
		return ExitUsage
	}
	flags = append(flags, forwarded(fs, f)...)
	at := time.Now().Add(startIn.d).UTC().Truncate(time.Second).Format(time.RFC3339)
	objs := k8sObjects(k8sSpec{name: name, image: image, claim: claim, secret: secret, shards: shards, at: at,
		files: files, flags: flags, wait: wait.d})
	for i, o := range objs {
		if i > 0 {
			c.say(c.Stdout, "---\n")
		}
		data, err := yaml.Marshal(o)
		if err != nil {
			c.errorf("k8s-job: %v", err)
			return ExitInvalid
		}
		if _, err := c.Stdout.Write(data); err != nil {
			return ExitInvalid
		}
	}
	return ExitPass
}

// podFile is one file the run reads, as the pods see it: its key in the ConfigMap, its
// path below /config, and its bytes.
type podFile struct {
	key, path string
	data      []byte
}

// podFiles reads the files the run reads (the config, each thresholds file with its
// baseline, the CA) and says where each is in the pods, with the flags that point the run
// there.
func podFiles(p *plan.Plan, f *runFlags) ([]podFile, []string, error) {
	var files []podFile
	add := func(local, path string) error {
		data, err := os.ReadFile(local)
		if err != nil {
			return err
		}
		files = append(files, podFile{key: fmt.Sprintf("f%d", len(files)), path: path, data: data})
		return nil
	}
	if err := add(f.config, filepath.Base(f.config)); err != nil {
		return nil, nil, err
	}
	flags := []string{"-c", "/config/" + filepath.Base(f.config)}
	for i, th := range p.ThresholdFiles {
		dir := fmt.Sprintf("t%d", i)
		if err := add(th, dir+"/"+filepath.Base(th)); err != nil {
			return nil, nil, err
		}
		flags = append(flags, "--thresholds", "/config/"+dir+"/"+filepath.Base(th))
		t, err := config.ReadThresholds(th, func(string) (string, bool) { return "", false })
		if err != nil || t.Baseline == "" {
			continue // read as the plan read it; a baseline's absence is the plan's to judge
		}
		rel := filepath.ToSlash(filepath.Clean(t.Baseline))
		if filepath.IsAbs(t.Baseline) || strings.HasPrefix(rel, "../") {
			return nil, nil, fmt.Errorf("%s: its baseline %s is outside its folder: keep it beside the thresholds file", th, t.Baseline)
		}
		if err := add(filepath.Join(filepath.Dir(th), t.Baseline), dir+"/"+rel); err != nil {
			return nil, nil, err
		}
	}
	if p.CAFile != "" {
		if err := add(p.CAFile, "ca/"+filepath.Base(p.CAFile)); err != nil {
			return nil, nil, err
		}
		flags = append(flags, "--ca-file", "/config/ca/"+filepath.Base(p.CAFile))
	}
	size := 0
	for _, pf := range files {
		size += len(pf.data)
	}
	if size > 900<<10 {
		return nil, nil, fmt.Errorf("the files come to %d KB, more than a ConfigMap holds (1 MiB)", size>>10)
	}
	return files, flags, nil
}

// forwarded are the run flags given, as arguments for the pods: those that shape the
// load and the rules, not those of files (podFiles), reports or shards.
func forwarded(fs *flag.FlagSet, f *runFlags) []string {
	skip := map[string]bool{"c": true, "config": true, "thresholds": true, "ca-file": true, "json": true, "junit": true, "html": true, "pr-comment": true, "pr-comment-key": true,
		"shard": true, "shards": true, "start-at": true, "cpuprofile": true}
	var out []string
	fs.Visit(func(fl *flag.Flag) {
		if skip[fl.Name] || fs.Lookup(fl.Name) == nil || !isRunFlag(fl.Name) {
			return
		}
		out = append(out, "--"+fl.Name+"="+fl.Value.String())
	})
	return out
}

// isRunFlag reports whether a flag is one of run's (and not k8s-job's own).
func isRunFlag(name string) bool {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	addRunFlags(fs, &runFlags{}, defaultConfig)
	return fs.Lookup(name) != nil
}

// dnsLabel reports whether s is a Kubernetes name (RFC 1123 label).
func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// k8sSpec is what the objects are made of.
type k8sSpec struct {
	name, image, claim, secret string
	shards                     int
	at                         string
	files                      []podFile
	flags                      []string
	wait                       time.Duration
}

// k8sObjects are the ConfigMap, the Indexed Job of the shards and the merge's Job.
func k8sObjects(s k8sSpec) []any {
	labels := map[string]string{"app.kubernetes.io/name": "perfgate", "app.kubernetes.io/instance": s.name}
	data := map[string]string{}
	var items []map[string]string
	for _, f := range s.files {
		data[f.key] = string(f.data)
		items = append(items, map[string]string{"key": f.key, "path": f.path})
	}
	cm := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": s.name + "-files", "labels": labels},
		"data":     data,
	}
	volumes := []any{
		map[string]any{"name": "files", "configMap": map[string]any{"name": s.name + "-files", "items": items}},
		map[string]any{"name": "results", "persistentVolumeClaim": map[string]any{"claimName": s.claim}},
	}
	mounts := []any{
		map[string]any{"name": "files", "mountPath": "/config", "readOnly": true},
		map[string]any{"name": "results", "mountPath": "/results"},
	}
	container := func(args []string) map[string]any {
		c := map[string]any{"name": "perfgate", "image": s.image, "args": args, "volumeMounts": mounts}
		if s.secret != "" {
			c["envFrom"] = []any{map[string]any{"secretRef": map[string]any{"name": s.secret}}}
		}
		return c
	}
	shardArgs := append([]string{"run"}, s.flags...)
	dir := "/results/" + s.name
	shardArgs = append(shardArgs, "--shards", strconv.Itoa(s.shards), "--start-at", s.at,
		"--json", dir+"/shard-$(JOB_COMPLETION_INDEX).json", "--junit", "")
	shards := map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": s.name, "labels": labels},
		"spec": map[string]any{
			"completionMode":       "Indexed",
			"completions":          s.shards,
			"parallelism":          s.shards,
			"backoffLimitPerIndex": 0,
			"maxFailedIndexes":     s.shards,
			"podFailurePolicy": map[string]any{"rules": []any{
				map[string]any{"action": "FailJob", "onExitCodes": map[string]any{"containerName": "perfgate", "operator": "In", "values": []int{ExitUsage}}},
			}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"restartPolicy": "Never", "containers": []any{container(shardArgs)}, "volumes": volumes},
			},
		},
	}
	mergeArgs := []string{"merge", dir}
	mergeArgs = append(mergeArgs, s.flags...)
	mergeArgs = append(mergeArgs, "--wait", s.wait.String(), "--json", dir+"/result.json", "--junit", dir+"/junit.xml", "--html", dir+"/report.html")
	merge := map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": s.name + "-merge", "labels": labels},
		"spec": map[string]any{
			"backoffLimit": 0,
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"restartPolicy": "Never", "containers": []any{container(mergeArgs)}, "volumes": volumes},
			},
		},
	}
	return []any{cm, shards, merge}
}
