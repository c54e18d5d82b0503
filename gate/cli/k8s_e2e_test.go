package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/perfgate/perfgate/gate/internal/junitxsd"
	"github.com/perfgate/perfgate/gate/internal/kubetest"
)

// jobStatus is what the tests read of a Job's status.
type jobStatus struct {
	Status struct {
		Conditions []struct {
			Type, Status, Reason, Message string
		}
		CompletedIndexes string `json:"completedIndexes"`
		FailedIndexes    string `json:"failedIndexes"`
	}
}

// ended is the condition a Job ended with (Complete or Failed), or "".
func (j jobStatus) ended() (string, string) {
	for _, c := range j.Status.Conditions {
		if (c.Type == "Complete" || c.Type == "Failed") && c.Status == "True" {
			return c.Type, c.Reason
		}
	}
	return "", ""
}

// decodeObjects reads the documents perfgate k8s-job printed.
func decodeObjects(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("k8s-job printed no YAML: %v\n%s", err, out)
		}
		objs = append(objs, o)
	}
}

// The objects perfgate k8s-job prints, created in a real Kubernetes control plane (etcd,
// kube-apiserver, and kube-controller-manager's Job controller), their pods run by a
// stand-in kubelet as local perfgate processes against the sample API:
//   - eight shards and the merge: the Indexed Job completes, and the merge Job's pod
//     judges the eight shards' results as one run and passes;
//   - a shard's pod killed (exit 137): its index is not tried again, the Job fails with
//     that index, and the merge finds the shard missing and gives no verdict (exit 3);
//   - a bad config (exit 2 in every pod): the podFailurePolicy fails the whole Job.
func TestE2EK8sIndexedJob(t *testing.T) {
	bin := kubetest.Bin(t)
	t.Parallel()
	pg := binary(t)
	cluster := kubetest.Start(t, bin)
	addr, _ := serveDemo(t, "--latency", "1ms", "--jitter", "2ms")
	dir := demoFiles(t)

	kubelet := &kubetest.Kubelet{Cluster: cluster, Namespace: "default", Binary: pg, Env: suiteEnv(), Dir: t.TempDir(),
		Fail: func(p kubetest.Pod) int {
			if p.Metadata.Labels["job-name"] == "killed" && p.Metadata.Annotations["batch.kubernetes.io/job-completion-index"] == "1" {
				return 137
			}
			return -1
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); kubelet.Run(ctx, t) }()
	t.Cleanup(func() { cancel(); <-done })

	create := func(name string, shards int, target, mergeWait string) {
		r := perfgate(t, dir, 30*time.Second, "k8s-job", "--shards", fmt.Sprint(shards), "--name", name, "--results-claim", "results",
			"--secret", name+"-env", "--start-in", "15s", "--merge-wait", mergeWait, "--users", "32", "--spawn-rate", "32",
			"--think", "40ms..60ms", "--duration", "4s", "--progress", "1s")
		if r.code != ExitPass {
			t.Fatalf("k8s-job: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		secret := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": name + "-env"},
			"stringData": map[string]any{"TARGET_URL": target}}
		cluster.Create(t, "default", append([]map[string]any{secret}, decodeObjects(t, r.stdout)...)...)
	}
	create("sharded", 8, "http://"+addr, "2m")
	create("killed", 3, "http://"+addr, "45s")
	create("bad", 3, "ftp://"+addr, "5s")

	wait := func(job string) jobStatus {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			var j jobStatus
			if !cluster.Get(t, "/apis/batch/v1/namespaces/default/jobs/"+job, &j) {
				t.Fatalf("no job %s", job)
			}
			if c, _ := j.ended(); c != "" {
				return j
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s has not ended after 3m: %+v", job, j.Status)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	claim := filepath.Join(kubelet.Dir, "claims", "results")
	podsOf := func(job string) []string {
		var out []string
		for _, p := range kubelet.Ran() {
			if strings.HasPrefix(p, job+"-") && !strings.HasPrefix(p, job+"-merge-") {
				out = append(out, p)
			}
		}
		return out
	}
	mergeLog := func(job string) string {
		for _, p := range kubelet.Ran() {
			if strings.HasPrefix(p, job+"-merge-") {
				return kubelet.Log(p)
			}
		}
		t.Fatalf("no merge pod of %s ran", job)
		return ""
	}

	// Eight shards, merged into one passing verdict.
	if j := wait("sharded"); j.Status.CompletedIndexes != "0-7" {
		c, why := j.ended()
		t.Errorf("sharded: ended %s (%s), indexes %q completed", c, why, j.Status.CompletedIndexes)
	}
	m := wait("sharded-merge")
	log := mergeLog("sharded")
	if c, why := m.ended(); c != "Complete" {
		t.Fatalf("the merge: %s (%s)\n%s", c, why, log)
	}
	for _, want := range []string{"8 shard results of http://" + addr + " merged", "Verdict: PASS"} {
		if !strings.Contains(log, want) {
			t.Errorf("the merge's log lacks %q:\n%s", want, log)
		}
	}
	res := readResultFile(t, filepath.Join(claim, "sharded", "result.json"), result{stdout: log})
	if res.Verdict != "pass" || len(res.Shards) != 8 || res.Phases[0].Delivery.PlannedUsers != 32 {
		t.Errorf("merged: verdict %s, %d shards, %d users planned", res.Verdict, len(res.Shards), res.Phases[0].Delivery.PlannedUsers)
	}
	var held int64
	for i := range 8 {
		s := readResultFile(t, filepath.Join(claim, "sharded", fmt.Sprintf("shard-%d.json", i)), result{})
		if s.Shard == nil || s.Shard.Index != i || s.Shard.Of != 8 {
			t.Errorf("shard-%d.json is shard %+v", i, s.Shard)
		}
		held += s.Phases[0].Hold.All.Requests
	}
	if got := res.Phases[0].Hold.All.Requests; got != held || held == 0 {
		t.Errorf("merged %d requests of the shards' %d", got, held)
	}
	junitxsd.Validate(t, filepath.Join(claim, "sharded", "junit.xml"))

	// A shard killed: not tried again, and no verdict.
	j := wait("killed")
	if c, _ := j.ended(); c != "Failed" || j.Status.FailedIndexes != "1" || j.Status.CompletedIndexes != "0,2" {
		t.Errorf("killed: ended %s, indexes %q failed and %q completed; want Failed, 1 and 0,2", c, j.Status.FailedIndexes, j.Status.CompletedIndexes)
	}
	if pods := podsOf("killed"); len(pods) != 3 {
		t.Errorf("killed: pods %v, want one for each index (none tried again)", pods)
	}
	wait("killed-merge")
	if log := mergeLog("killed"); !strings.Contains(log, "shard 2 of 3 is missing") || !strings.Contains(log, "exit 3") {
		t.Errorf("the merge of a run missing a shard says:\n%s", log)
	}

	// A bad config: exit 2, and the whole Job fails at once.
	j = wait("bad")
	if c, why := j.ended(); c != "Failed" || why != "PodFailurePolicy" {
		t.Errorf("bad: ended %s (%s), want Failed by the PodFailurePolicy", c, why)
	}
	for _, p := range podsOf("bad") {
		if l := kubelet.Log(p); !strings.Contains(l, "is not an http:// or https:// URL") {
			t.Errorf("pod %s says:\n%s", p, l)
		}
	}
}
