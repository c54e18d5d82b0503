package kubetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Pod is what the stand-in kubelet reads of a pod.
type Pod struct {
	Metadata struct {
		Name        string            `json:"name"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Containers []Container `json:"containers"`
		Volumes    []struct {
			Name      string `json:"name"`
			ConfigMap *struct {
				Name  string `json:"name"`
				Items []struct {
					Key  string `json:"key"`
					Path string `json:"path"`
				} `json:"items"`
			} `json:"configMap"`
			Claim *struct {
				ClaimName string `json:"claimName"`
			} `json:"persistentVolumeClaim"`
		} `json:"volumes"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

// Container is one of a pod's containers, as the stand-in runs it.
type Container struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
	Env  []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `json:"fieldPath"`
			} `json:"fieldRef"`
		} `json:"valueFrom"`
	} `json:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `json:"name"`
		} `json:"secretRef"`
	} `json:"envFrom"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
}

// Kubelet runs the pods of a namespace as local processes of one binary (the pods'
// image): their args with $(VAR) expanded from their env (the Job controller's
// JOB_COMPLETION_INDEX among it, from the pod's annotations), a Secret's keys for
// envFrom, a ConfigMap volume as a folder of its items, and a PersistentVolumeClaim as a
// folder shared by every pod that mounts it; mount paths in args point at those folders.
// It reports each pod Running, then Succeeded or Failed with its container's exit code,
// as a kubelet does. Fail, when set, may end a pod without running it: it returns the
// exit code to report (137, say, as if the pod was killed), or -1 to run it.
type Kubelet struct {
	Cluster   *Cluster
	Namespace string
	Binary    string
	Env       []string // the processes' environment before the pod's own
	Dir       string   // where the pods' folders and the claims' are
	Fail      func(Pod) int

	mu      sync.Mutex
	running map[string]context.CancelFunc
	ran     []string
}

// Run runs pods until ctx ends, then stops those still running.
func (k *Kubelet) Run(ctx context.Context, t *testing.T) {
	k.running = map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	defer func() {
		k.mu.Lock()
		for _, cancel := range k.running {
			cancel()
		}
		k.mu.Unlock()
		wg.Wait()
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var list struct{ Items []Pod }
		status, data, err := k.Cluster.Do(http.MethodGet, "/api/v1/namespaces/"+k.Namespace+"/pods", nil)
		if err == nil && status == http.StatusOK {
			err = json.Unmarshal(data, &list)
		}
		if err != nil && ctx.Err() == nil {
			t.Errorf("kubelet: listing pods: %d %v", status, err)
			return
		}
		here := map[string]bool{}
		for _, p := range list.Items {
			here[p.Metadata.Name] = true
			k.mu.Lock()
			_, seen := k.running[p.Metadata.Name]
			if !seen && (p.Status.Phase == "Pending" || p.Status.Phase == "") {
				pctx, cancel := context.WithCancel(ctx)
				k.running[p.Metadata.Name] = cancel
				k.ran = append(k.ran, p.Metadata.Name)
				wg.Add(1)
				go func() {
					defer wg.Done()
					k.runPod(pctx, t, p)
				}()
			}
			k.mu.Unlock()
		}
		// A pod deleted (its Job failed) has its process stopped.
		k.mu.Lock()
		for name, cancel := range k.running {
			if !here[name] {
				cancel()
			}
		}
		k.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Ran names the pods the kubelet started, in order.
func (k *Kubelet) Ran() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.ran...)
}

func (k *Kubelet) runPod(ctx context.Context, t *testing.T, p Pod) {
	name := p.Metadata.Name
	started := time.Now().UTC().Format(time.RFC3339)
	c := p.Spec.Containers[0]
	k.report(t, name, "Running", c.Name, map[string]any{"running": map[string]any{"startedAt": started}})
	code := -1
	if k.Fail != nil {
		code = k.Fail(p)
	}
	if code < 0 {
		var err error
		code, err = k.exec(ctx, t, p, c)
		if err != nil {
			if ctx.Err() != nil {
				return // the pod is gone, or the test is over
			}
			t.Errorf("kubelet: pod %s: %v", name, err)
			code = 128
		}
	}
	phase, reason := "Succeeded", "Completed"
	if code != 0 {
		phase, reason = "Failed", "Error"
	}
	k.report(t, name, phase, c.Name, map[string]any{"terminated": map[string]any{
		"exitCode": code, "reason": reason, "startedAt": started, "finishedAt": time.Now().UTC().Format(time.RFC3339)}})
}

// report patches a pod's status as its kubelet would.
func (k *Kubelet) report(t *testing.T, pod, phase, container string, state map[string]any) {
	patch := map[string]any{"status": map[string]any{"phase": phase, "containerStatuses": []any{map[string]any{
		"name": container, "ready": phase == "Running", "restartCount": 0, "image": "perfgate", "imageID": "",
		"state": state}}}}
	status, data, err := k.Cluster.Do(http.MethodPatch, "/api/v1/namespaces/"+k.Namespace+"/pods/"+url.PathEscape(pod)+"/status", patch)
	if err != nil || status != http.StatusOK && status != http.StatusNotFound {
		t.Errorf("kubelet: pod %s %s: %d %s %v", pod, phase, status, data, err)
	}
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// exec runs one container as a process and returns its exit code.
func (k *Kubelet) exec(ctx context.Context, t *testing.T, p Pod, c Container) (int, error) {
	env := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, ok := env[name]; !ok {
			order = append(order, name)
		}
		env[name] = value
	}
	for _, from := range c.EnvFrom {
		if from.SecretRef == nil {
			continue
		}
		var s struct{ Data map[string]string }
		if !k.Cluster.Get(t, "/api/v1/namespaces/"+k.Namespace+"/secrets/"+from.SecretRef.Name, &s) {
			return 0, fmt.Errorf("no secret %s", from.SecretRef.Name)
		}
		for key, v := range s.Data {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return 0, err
			}
			set(key, string(b))
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			set(e.Name, expand(e.Value, env))
		case e.ValueFrom.FieldRef != nil:
			v, err := field(p, e.ValueFrom.FieldRef.FieldPath)
			if err != nil {
				return 0, err
			}
			set(e.Name, v)
		}
	}

	// Volumes as folders, mounts as prefixes of the args.
	podDir := filepath.Join(k.Dir, "pods", p.Metadata.Name)
	where := map[string]string{}
	for _, v := range p.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			var cm struct{ Data map[string]string }
			if !k.Cluster.Get(t, "/api/v1/namespaces/"+k.Namespace+"/configmaps/"+v.ConfigMap.Name, &cm) {
				return 0, fmt.Errorf("no configmap %s", v.ConfigMap.Name)
			}
			dir := filepath.Join(podDir, "volumes", v.Name)
			for _, it := range v.ConfigMap.Items {
				path := filepath.Join(dir, filepath.FromSlash(it.Path))
				if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
					return 0, fmt.Errorf("configmap item path %q leaves its volume", it.Path)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return 0, err
				}
				if err := os.WriteFile(path, []byte(cm.Data[it.Key]), 0o644); err != nil {
					return 0, err
				}
			}
			where[v.Name] = dir
		case v.Claim != nil:
			where[v.Name] = filepath.Join(k.Dir, "claims", v.Claim.ClaimName)
		}
	}
	var mounts [][2]string
	for _, m := range c.VolumeMounts {
		dir, ok := where[m.Name]
		if !ok {
			return 0, fmt.Errorf("mount of an unknown volume %s", m.Name)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
		mounts = append(mounts, [2]string{m.MountPath, dir})
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		a = expand(a, env)
		for _, m := range mounts {
			if a == m[0] || strings.HasPrefix(a, m[0]+"/") {
				a = m[1] + a[len(m[0]):]
			}
		}
		args[i] = a
	}
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, k.Binary, args...)
	cmd.Dir = podDir
	cmd.Env = append([]string(nil), k.Env...)
	for _, name := range order {
		cmd.Env = append(cmd.Env, name+"="+env[name])
	}
	log, err := os.Create(filepath.Join(podDir, "log"))
	if err != nil {
		return 0, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// Log is what pod's process printed.
func (k *Kubelet) Log(pod string) string {
	data, _ := os.ReadFile(filepath.Join(k.Dir, "pods", pod, "log"))
	return string(data)
}

// expand replaces $(VAR) with env's VAR, as Kubernetes does in args and env values: $$
// is a $, and a reference to a variable not set stays as written.
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

var annotationRef = regexp.MustCompile(`^metadata\.(annotations|labels)\['([^']+)'\]$`)

// field reads a pod field an env var refers to.
func field(p Pod, path string) (string, error) {
	if path == "metadata.name" {
		return p.Metadata.Name, nil
	}
	if m := annotationRef.FindStringSubmatch(path); m != nil {
		if m[1] == "annotations" {
			return p.Metadata.Annotations[m[2]], nil
		}
		return p.Metadata.Labels[m[2]], nil
	}
	return "", fmt.Errorf("field %s: the stand-in kubelet does not know it", path)
}
