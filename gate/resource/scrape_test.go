package resource

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// What client_golang's database/sql collector exposes for two pools, with the process
// collector's lines and a histogram.
const page = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.2e+08
# TYPE go_sql_in_use_connections gauge
go_sql_in_use_connections{db_name="orders"} 3
go_sql_in_use_connections{db_name="users"} 2
# TYPE go_sql_wait_count_total counter
go_sql_wait_count_total{db_name="orders"} 40
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 10
http_request_duration_seconds_bucket{le="+Inf"} 12
http_request_duration_seconds_sum 1.5
http_request_duration_seconds_count 12
`

func TestParse(t *testing.T) {
	series := []Series{
		{Name: "cpu", Metric: "process_cpu_seconds_total", Counter: true},
		{Name: "memory", Metric: "process_resident_memory_bytes"},
		{Name: "db_in_use", Metric: "go_sql_in_use_connections"},
		{Name: "orders_in_use", Metric: "go_sql_in_use_connections", Labels: map[string]string{"db_name": "orders"}},
		{Name: "request_seconds", Metric: "http_request_duration_seconds"},
		{Name: "goroutines", Metric: "go_goroutines"},
	}
	at := time.Unix(1_700_000_000, 0)
	s, err := Parse(strings.NewReader(page), series, at)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{12.5, 1.2e8, 5, 3, 1.5, 0}
	for i, w := range want {
		if s.Values[i] != w || s.Present[i] != (i < 5) {
			t.Errorf("%s = %v (present %v), want %v", series[i].Name, s.Values[i], s.Present[i], w)
		}
	}
	if s.Counts[4] != 12 {
		t.Errorf("the histogram observed %v, want 12", s.Counts[4])
	}
	if m := Missing(series, s); len(m) != 1 || m[0] != "goroutines (go_goroutines)" {
		t.Errorf("missing %v", m)
	}
	if _, err := Parse(strings.NewReader("process_cpu_seconds_total twelve\n"), series, at); err == nil || !strings.Contains(err.Error(), "not the Prometheus text format") {
		t.Errorf("garbage: %v", err)
	}
}

// A counter is read as its rate over the window, a gauge as its value at the end, a
// Mean series as its sum's increase over its count's; a counter that went down (a
// restart), a Mean series that observed nothing, or a series missing at either end
// tells nothing.
func TestBetween(t *testing.T) {
	series := []Series{{Name: "cpu", Counter: true}, {Name: "memory"}, {Name: "waits", Counter: true}, {Name: "gone"},
		{Name: "sched_latency", Mean: true}, {Name: "idle", Mean: true}}
	t0 := time.Unix(1_700_000_000, 0)
	a := Snapshot{At: t0, Values: []float64{10, 100, 50, 1, 2.0, 1}, Present: []bool{true, true, true, true, true, true},
		Counts: []float64{0, 0, 0, 0, 1000, 10}}
	b := Snapshot{At: t0.Add(2 * time.Second), Values: []float64{11.5, 120, 20, 0, 2.5, 1}, Present: []bool{true, true, true, false, true, true},
		Counts: []float64{0, 0, 0, 0, 1250, 10}}
	got := Between(series, a, b)
	want := []Value{{0.75, true}, {120, true}, {}, {}, {0.002, true}, {}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: %+v, want %+v", series[i].Name, got[i], want[i])
		}
	}
}

// A real client_golang registry's process and Go collectors, scraped over HTTP.
func TestScrapeARealRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector(
		collectors.WithGoCollectorRuntimeMetrics(collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)})))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	sc := &Scraper{URL: srv.URL + "/metrics", Series: Defaults}
	snap, err := sc.Scrape(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, s := range Defaults {
		byName[s.Name] = i
	}
	for _, name := range []string{"memory", "open_fds", "goroutines", "gomaxprocs", "heap", "sched_latency"} {
		if i := byName[name]; !snap.Present[i] || !(snap.Values[i] > 0) {
			t.Errorf("%s: %v (present %v)", name, snap.Values[i], snap.Present[i])
		}
	}
	// The processor seconds are counted in 10 ms ticks: a young process may have none.
	if i := byName["cpu"]; !snap.Present[i] || snap.Values[i] < 0 {
		t.Errorf("cpu: %v (present %v)", snap.Values[i], snap.Present[i])
	}
	if i := byName["sched_latency"]; !(snap.Counts[i] > 0) {
		t.Errorf("sched_latency: the scheduler's latencies counted %v", snap.Counts[i])
	}
	if i := byName["db_in_use"]; snap.Present[i] {
		t.Error("a registry without a database/sql collector has db_in_use")
	}
}

func TestScrapeErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/hostile", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("\x1b[31mnot metrics {{{\r\n"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/metrics"
	ln.Close()
	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/missing", "status 404"},
		{srv.URL + "/hostile", "not the Prometheus text format"},
		{refused, "connection refused"},
		{"http://user:hunter2@" + ln.Addr().String() + "/metrics", "xxxxx"},
	} {
		_, err := (&Scraper{URL: tc.url, Series: Defaults, Timeout: 2 * time.Second}).Scrape(context.Background(), time.Now())
		if err == nil || !errors.Is(err, ErrScrape) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
			continue
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\x1b\r\n") || strings.Contains(msg, "hunter2") {
			t.Errorf("unneutralised: %q", msg)
		}
	}
}

// A target's /metrics answer is bytes from outside: no input makes Parse panic, and an
// error never carries a control character.
func FuzzParse(f *testing.F) {
	f.Add(page)
	f.Add("# TYPE x counter\nx{a=\"\\\"\"} 1e309\n")
	f.Add("x 1\nx 2\n")
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := Parse(strings.NewReader(doc), Defaults, time.Unix(0, 0))
		if err != nil && strings.ContainsAny(err.Error(), "\x1b\r\n") {
			t.Fatalf("unneutralised error %q", err)
		}
	})
}
