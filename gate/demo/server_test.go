package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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
		{"GET", "/", "", "", 200},
	} {
		if code, _ := call(t, h, tc.method, tc.path, tc.body, tc.token); code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, code, tc.want)
		}
	}
	_, m = call(t, h, "GET", "/api/products/12345", "", tok)
	if m["id"] != float64(12345) {
		t.Errorf("product = %v", m)
	}
	if s.Requests() != 10 {
		t.Errorf("requests = %d, want 10", s.Requests())
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
	for _, o := range []Options{{Latency: -1}, {ErrorRate: 1.5}, {ErrorRate: -0.1}} {
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if Regressed.Validate() != nil || Healthy.Validate() != nil {
		t.Error("built-in options rejected")
	}
}
