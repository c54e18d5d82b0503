package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func call(t *testing.T, h http.Handler, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func TestSeedEndpoints(t *testing.T) {
	s := New(Options{})
	h := s.Handler()
	code, m := call(t, h, "POST", "/auth/token", `{"username":"testuser","password":"testpass"}`, "")
	tok, _ := m["access_token"].(string)
	if code != 200 || tok == "" {
		t.Fatalf("login = %d %v", code, m)
	}
	for _, tc := range []struct {
		method, path, body, token string
		want                      int
	}{
		{"POST", "/auth/token", `{"username":"testuser","password":"nope"}`, "", 401},
		{"POST", "/auth/token", `not json`, "", 400},
		{"GET", "/api/products", "", "", 401},
		{"GET", "/api/products", "", tok + "x", 401},
		{"GET", "/api/products", "", tok, 200},
		{"GET", "/api/products/12345", "", tok, 200},
		{"GET", "/api/products/abc", "", tok, 404},
		{"GET", "/api/products/20001", "", tok, 404},
		{"GET", "/", "", "", 200},
	} {
		if code, _ := call(t, h, tc.method, tc.path, tc.body, tc.token); code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, code, tc.want)
		}
	}
	_, m = call(t, h, "GET", "/api/products/12345", "", tok)
	if m["id"] != float64(12345) || m["name"] != "Product 12345" || m["price"] != 344.5 || m["stock"] != float64(12345%97) {
		t.Errorf("product = %v", m)
	}
	_, m = call(t, h, "GET", "/api/products", "", tok)
	if list, _ := m["products"].([]any); len(list) != 20 || m["total"] != float64(20) || list[0].(map[string]any)["id"] != float64(12340) {
		t.Errorf("products = %v", m)
	}
	if s.Requests() != 12 {
		t.Errorf("requests = %d, want 12", s.Requests())
	}
}

func TestInjectedErrorsAndLatency(t *testing.T) {
	s := New(Options{ErrorRate: 0.3, Latency: 5 * time.Millisecond})
	h := s.Handler()
	_, m := call(t, h, "POST", "/auth/token", `{"username":"testuser","password":"testpass"}`, "")
	tok := m["access_token"].(string)
	errs := 0
	start := time.Now()
	const n = 400
	for range n {
		if code, _ := call(t, h, "GET", "/api/products", "", tok); code == 500 {
			errs++
		}
	}
	// 30% of 400: binomial standard deviation about 9; allow 5 of them.
	if errs < 75 || errs > 165 {
		t.Errorf("errors = %d of %d, want about 30%%", errs, n)
	}
	if took := time.Since(start); took < n*5*time.Millisecond {
		t.Errorf("400 requests took %v, want at least 400 x 5ms", took)
	}
}

func TestStartServeShutdown(t *testing.T) {
	s := New(Healthy)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL() + "/"); err == nil {
		t.Error("server still answers after Shutdown")
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{{Latency: -1}, {ErrorRate: 1.5}, {ErrorRate: -0.1}, {Pool: -1}, {CPUWork: -1}, {LeakMemory: 2 << 20, MemoryLimit: 1 << 20}} {
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if Regressed.Validate() != nil || Healthy.Validate() != nil {
		t.Error("built-in options rejected")
	}
}

// login returns a bearer token of h.
func login(t *testing.T, h http.Handler) string {
	t.Helper()
	_, m := call(t, h, "POST", "/auth/token", `{"username":"testuser","password":"testpass"}`, "")
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("login: %v", m)
	}
	return tok
}

// metrics is what h's /metrics says of the metric families named, summed over labels.
func metrics(t *testing.T, h http.Handler, names ...string) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		for _, n := range names {
			rest, ok := strings.CutPrefix(line, n)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
				continue
			}
			f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
			if len(f) == 0 {
				continue
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			out[n] += v
		}
	}
	return out
}

// TestASmallPoolQueues: with a pool of 2 connections, each held for the API's 20 ms
// latency, 8 requests at once take four turns: the pool's metrics show all of it in
// use, and callers that waited for a connection.
func TestASmallPoolQueues(t *testing.T) {
	s := New(Options{Latency: 20 * time.Millisecond, Pool: 2})
	defer s.Close()
	h := s.Handler()
	tok := login(t, h)
	var wg sync.WaitGroup
	done, peaked := make(chan struct{}), make(chan float64)
	go func() {
		peak := 0.0
		for {
			select {
			case <-done:
				peaked <- peak
				return
			case <-time.After(2 * time.Millisecond):
				s := s.store.db.Stats()
				peak = max(peak, float64(s.InUse))
			}
		}
	}()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _ := call(t, h, "GET", "/api/products", "", tok); code != 200 {
				t.Errorf("products: %d", code)
			}
		}()
	}
	wg.Wait()
	close(done)
	peak := <-peaked
	m := metrics(t, h, "go_sql_max_open_connections", "go_sql_wait_count_total", "go_sql_in_use_connections")
	// Of 8 requests at once, at most 2 find a free connection: 6 or more wait.
	if m["go_sql_max_open_connections"] != 2 || m["go_sql_wait_count_total"] < 6 || m["go_sql_in_use_connections"] != 0 {
		t.Errorf("pool metrics %v", m)
	}
	if peak > 2 {
		t.Errorf("%v connections in use at once, the pool has 2", peak)
	}
}

// TestTheMetricsAreAGoServices: the process, Go runtime and database/sql collectors of
// client_golang, as a service instrumented with them exposes.
func TestTheMetricsAreAGoServices(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	m := metrics(t, s.Handler(), "process_resident_memory_bytes", "process_open_fds", "go_goroutines", "go_sched_gomaxprocs_threads",
		"go_memstats_heap_inuse_bytes", "go_sql_max_open_connections", "go_sql_open_connections")
	for _, n := range []string{"process_resident_memory_bytes", "process_open_fds", "go_goroutines", "go_sched_gomaxprocs_threads", "go_memstats_heap_inuse_bytes"} {
		if !(m[n] > 0) {
			t.Errorf("%s = %v", n, m[n])
		}
	}
	if _, ok := m["go_sql_max_open_connections"]; !ok {
		t.Errorf("no database/sql metrics: %v", m)
	}
}

// TestALeakKeepsMemoryUpToItsLimit: each /api/ request keeps its bytes, resident; at the
// limit, requests fail with 503 out of memory.
func TestALeakKeepsMemoryUpToItsLimit(t *testing.T) {
	s := New(Options{LeakMemory: 1 << 20, MemoryLimit: 8 << 20})
	defer s.Close()
	h := s.Handler()
	tok := login(t, h)
	for i := range 10 {
		code, m := call(t, h, "GET", "/api/products", "", tok)
		if want := 200; i >= 8 {
			if code != 503 || m["error"] != "out of memory" {
				t.Errorf("request %d past the limit: %d %v", i+1, code, m)
			}
		} else if code != want {
			t.Errorf("request %d: %d", i+1, code)
		}
	}
	if s.leak.size != 8<<20 || len(s.leak.kept) != 8 {
		t.Errorf("kept %d bytes in %d pieces, want 8 MiB in 8", s.leak.size, len(s.leak.kept))
	}
}

// TestCPUWorkIsProcessorTime: the work of a CPU-heavy handler is the processor's, not a
// sleep: the process's processor time grows by about as much as the work, measured by
// the process collector itself (its ticks are 10 ms, so the work is long).
func TestCPUWorkIsProcessorTime(t *testing.T) {
	s := New(Options{CPUWork: 50 * time.Millisecond})
	defer s.Close()
	h := s.Handler()
	tok := login(t, h)
	before := metrics(t, h, "process_cpu_seconds_total")["process_cpu_seconds_total"]
	for range 6 {
		if code, _ := call(t, h, "GET", "/api/products", "", tok); code != 200 {
			t.Fatalf("products: %d", code)
		}
	}
	used := metrics(t, h, "process_cpu_seconds_total")["process_cpu_seconds_total"] - before
	// 300 ms of work: at least most of it, whatever else the test process does (the
	// calibration takes the quickest of its batches, so work is never short of it by
	// more than the machine's noise).
	if used < 0.2 {
		t.Errorf("6 x 50ms of work used %.3fs of processor time", used)
	}
}
