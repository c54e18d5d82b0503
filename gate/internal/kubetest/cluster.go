// Package kubetest runs a real Kubernetes control plane for tests, on loopback: etcd,
// kube-apiserver and kube-controller-manager with its Job controller, built from Go
// modules by .ci/k8s/build. There is no scheduler and no kubelet: Kubelet is a small
// stand-in that runs each pod as a local process and reports how it ended.
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
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

// BinEnv names the folder holding etcd, kube-apiserver and kube-controller-manager.
const BinEnv = "PERFGATE_KUBE_BIN"

// Cluster is a running control plane.
type Cluster struct {
	// URL is the API server's, https on loopback.
	URL    string
	token  string
	client *http.Client
	logs   map[string]*bytes.Buffer
	mu     sync.Mutex
	// exited is closed when any of the control plane's processes has ended.
	exited     chan struct{}
	exitedOnce sync.Once
}

// Bin returns the folder of the control plane's binaries, or skips the test with how to
// build them when BinEnv is unset.
func Bin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(BinEnv)
	if dir == "" {
		t.Skipf("needs a Kubernetes control plane: %s=$(.ci/k8s/build) (the README's test command sets it)", BinEnv)
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("%s=%s lacks %s: build it with .ci/k8s/build", BinEnv, dir, b)
		}
	}
	return dir
}

// Start runs etcd, kube-apiserver and kube-controller-manager (the Job controller only)
// from bin, on loopback, and returns once the API server is ready. They stop when the
// test ends; their logs are printed if it failed.
func Start(t *testing.T, bin string) *Cluster {
	t.Helper()
	dir := t.TempDir()
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{token: hex.EncodeToString(tok), logs: map[string]*bytes.Buffer{}, exited: make(chan struct{}),
		// The API server's certificate is one it made itself on loopback, for this test.
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saKey := write("sa.key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	tokens := write("tokens.csv", c.token+",admin,admin,system:masters\n")

	client, peer := loopback.FreeAddr(t), loopback.FreeAddr(t)
	c.start(t, filepath.Join(bin, "etcd"), "etcd", "--name=test", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls=http://"+client, "--advertise-client-urls=http://"+client,
		"--listen-peer-urls=http://"+peer, "--initial-advertise-peer-urls=http://"+peer,
		"--initial-cluster=test=http://"+peer, "--unsafe-no-fsync", "--log-level=warn")

	api := loopback.FreeAddr(t)
	_, port, _ := net.SplitHostPort(api)
	c.URL = "https://" + api
	c.start(t, filepath.Join(bin, "kube-apiserver"), "kube-apiserver", "--etcd-servers=http://"+client,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+port,
		"--cert-dir="+filepath.Join(dir, "certs"), "--token-auth-file="+tokens, "--authorization-mode=AlwaysAllow",
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey, "--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount", "--enable-priority-and-fairness=false",
		// No Service endpoints of its own: the loopback address may not be one.
		"--endpoint-reconciler-type=none")
	deadline := time.Now().Add(2 * time.Minute)
	c.await(t, deadline, "kube-apiserver ready", "/readyz")

	kubeconfig := write("kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "%s"}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
current-context: test
`, c.URL, c.token))
	c.start(t, filepath.Join(bin, "kube-controller-manager"), "kube-controller-manager", "--kubeconfig="+kubeconfig,
		"--controllers=job", "--leader-elect=false", "--secure-port=0")
	// The namespace the tests use: the API server makes "default" itself.
	c.await(t, deadline, "the default namespace", "/api/v1/namespaces/default")
	return c
}

// await polls path until it answers 200, failing the test at deadline or when a process
// of the control plane has ended.
func (c *Cluster) await(t *testing.T, deadline time.Time, what, path string) {
	t.Helper()
	for {
		status, body, err := c.Do(http.MethodGet, path, nil)
		if err == nil && status == http.StatusOK {
			return
		}
		c.alive(t)
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 2m: %d %s %v", what, status, body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// start runs one of the control plane's processes until the test ends.
func (c *Cluster) start(t *testing.T, bin, name string, args ...string) {
	t.Helper()
	logs := &bytes.Buffer{}
	c.mu.Lock()
	c.logs[name] = logs
	c.mu.Unlock()
	cmd := exec.Command(bin, args...)
	w := &lockedWriter{mu: &c.mu, w: logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	waited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(waited)
		c.exitedOnce.Do(func() { close(c.exited) })
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-waited
		if t.Failed() {
			c.mu.Lock()
			out := logs.String()
			c.mu.Unlock()
			if len(out) > 4000 {
				out = "..." + out[len(out)-4000:]
			}
			t.Logf("%s's log ends:\n%s", name, out)
		}
	})
}

// alive fails the test when a process of the control plane has ended.
func (c *Cluster) alive(t *testing.T) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatal("a process of the control plane ended (its log follows)")
	default:
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Do sends one request to the API server, as its administrator: body (when not nil) as
// JSON, or as a merge patch for PATCH.
func (c *Cluster) Do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	switch {
	case method == http.MethodPatch:
		req.Header.Set("Content-Type", "application/merge-patch+json")
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, data, err
}

// Get reads one object or list into v.
func (c *Cluster) Get(t *testing.T, path string, v any) bool {
	t.Helper()
	status, data, err := c.Do(http.MethodGet, path, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if status == http.StatusNotFound {
		return false
	}
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return true
}

// Create creates each object (as kubectl create -f would) in namespace, its fields
// checked strictly: a field the API does not know is an error, as kubectl's is.
func (c *Cluster) Create(t *testing.T, namespace string, objs ...map[string]any) {
	t.Helper()
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		version, _ := o["apiVersion"].(string)
		base := "/api/" + version
		if strings.Contains(version, "/") {
			base = "/apis/" + version
		}
		path := fmt.Sprintf("%s/namespaces/%s/%ss?fieldValidation=Strict", base, namespace, strings.ToLower(kind))
		status, data, err := c.Do(http.MethodPost, path, o)
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create %s: %d %s %v", kind, status, data, err)
		}
	}
}
