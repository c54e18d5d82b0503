package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestRunReleasesGoroutinesAndConnections runs both models, both clients and the event
// loop, then checks
// that the goroutines and the target's open connections are back where they were.
func TestRunReleasesGoroutinesAndConnections(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	defer srv.Close()
	openConns := func() int { mu.Lock(); defer mu.Unlock(); return len(open) }

	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		load string
		opts []Option
	}{
		{"{users: 20, spawn_rate: 200, duration: 300ms, think: 5ms}", nil},
		{"{users: 20, spawn_rate: 200, duration: 300ms, think: 5ms}", []Option{WithStdlibClient()}},
		{"{users: 20, spawn_rate: 200, duration: 300ms}", nil},     // the event loop
		{"{rate: 500/s, duration: 300ms, max_in_flight: 30}", nil}, // the event loop
		{"{rate: 500/s, duration: 300ms, max_in_flight: 30}", []Option{WithoutEventLoop()}},
		{"{rate: 500/s, duration: 300ms, max_in_flight: 30}", []Option{WithStdlibClient()}},
	} {
		p := mustPlan(t, "target: "+srv.URL+"\nload: "+tc.load+"\ntasks: [{path: /}]\n")
		rec := &recorder{}
		New(p, rec, tc.opts...).Run(context.Background())
		if len(rec.all()) == 0 {
			t.Fatalf("%s: no requests", tc.load)
		}
	}
	// Closing is asynchronous on the server side: give it a moment, bounded.
	deadline := time.Now().Add(3 * time.Second)
	for (openConns() > 0 || runtime.NumGoroutine() > before+2) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := openConns(); n > 0 {
		t.Errorf("%d connections to the target still open after the runs", n)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
