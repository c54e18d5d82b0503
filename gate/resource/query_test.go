package resource

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perfgate/perfgate/gate/internal/loopback"
	"github.com/perfgate/perfgate/gate/internal/promtest"
)

// The query path against a real Prometheus scraping a real client_golang registry: a
// gauge and a counter's rate come back as one point a step; an expression of several
// series, of none, or one Prometheus refuses is an error that names it, and so is a
// server that is not there.
func TestQueryARealPrometheus(t *testing.T) {
	start := time.Now()
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "test_pool_in_use"}, func() float64 { return 7 }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "test_requests_total"}, func() float64 { return 20 * time.Since(start).Seconds() }),
	)
	vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "test_queue_depth"}, []string{"queue"})
	vec.WithLabelValues("a").Set(1)
	vec.WithLabelValues("b").Set(2)
	reg.MustRegister(vec)
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer target.Close()
	url, _ := promtest.Start(t, strings.TrimPrefix(target.URL, "http://"))
	time.Sleep(3500 * time.Millisecond) // a few more scrapes

	end := time.Now()
	q := &Query{URL: url, Exprs: []Expr{{"pool", "test_pool_in_use"}, {"rate", "rate(test_requests_total[3s])"}}}
	got, err := q.Range(context.Background(), end.Add(-3*time.Second), end, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) < 3 || len(got[1]) < 2 {
		t.Fatalf("points %v", got)
	}
	for _, p := range got[0] {
		if p.V != 7 {
			t.Errorf("pool at %v: %v, want 7", p.At, p.V)
		}
	}
	// 20 a second, as Prometheus' rate() estimates it from the few 1 s scrapes of a 3 s
	// window, extrapolated to the window's edges: off by up to half (14.6 seen), but
	// never the counter's raw value (over 100) nor 0.
	for _, p := range got[1] {
		if p.V < 10 || p.V > 30 {
			t.Errorf("rate at %v: %v, want about 20", p.At, p.V)
		}
	}
	for _, tc := range []struct{ expr, want string }{
		{"test_queue_depth", "2 series"},
		{"test_no_such_metric", "no series over the hold"},
		{"sum(", "(sum(): "},
	} {
		q := &Query{URL: url, Exprs: []Expr{{"x", tc.expr}}}
		_, err := q.Range(context.Background(), end.Add(-3*time.Second), end, time.Second)
		if err == nil || !errors.Is(err, ErrScrape) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), url) {
			t.Errorf("%s: %v, want %q", tc.expr, err, tc.want)
		}
	}
	down := &Query{URL: "http://" + loopback.FreeAddr(t), Exprs: []Expr{{"pool", "test_pool_in_use"}}}
	if _, err := down.Range(context.Background(), end.Add(-3*time.Second), end, time.Second); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("down: %v", err)
	}
}
