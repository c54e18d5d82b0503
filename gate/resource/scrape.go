package resource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/perfgate/perfgate/gate/internal/safetext"
)

// Series is one resource to read from a metrics endpoint: the samples of one metric
// family (those with all of Labels, when set), summed.
type Series struct {
	// Name is how reports show it: "cpu", "memory", "db_in_use".
	Name   string
	Metric string
	Labels map[string]string
	// Counter reads the series as its rate over each window (a counter's increase a
	// second); Mean reads a histogram or a summary as the mean of what it observed in
	// each window (its sum's increase over its count's); otherwise its value at the
	// window's end.
	Counter bool
	Mean    bool
	// Query is the series' PromQL expression, for a Prometheus server (see Query).
	Query string
}

// Defaults are the series of a Go service instrumented with client_golang's default
// collectors (process and Go runtime) and its database/sql stats collector
// (collectors.NewDBStatsCollector): processor seconds a second (cores busy), resident
// memory and Go's limit of it (GOMEMLIMIT: the largest int64 when none is set), open
// file descriptors and their limit, goroutines, the processors Go may use (GOMAXPROCS),
// how long a goroutine ready to run waited for one of them on average (the runtime
// metric /sched/latencies:seconds, which client_golang exposes with
// collectors.WithGoCollectorRuntimeMetrics: the processors' saturation), the heap in
// use, and the database pool's connections in use, its most allowed, and the waits for a
// connection (count and seconds a second).
var Defaults = []Series{
	{Name: "cpu", Metric: "process_cpu_seconds_total", Counter: true},
	{Name: "memory", Metric: "process_resident_memory_bytes"},
	{Name: "memory_limit", Metric: "go_gc_gomemlimit_bytes"},
	{Name: "open_fds", Metric: "process_open_fds"},
	{Name: "max_fds", Metric: "process_max_fds"},
	{Name: "goroutines", Metric: "go_goroutines"},
	{Name: "gomaxprocs", Metric: "go_sched_gomaxprocs_threads"},
	{Name: "sched_latency", Metric: "go_sched_latencies_seconds", Mean: true},
	{Name: "heap", Metric: "go_memstats_heap_inuse_bytes"},
	{Name: "db_in_use", Metric: "go_sql_in_use_connections"},
	{Name: "db_max_open", Metric: "go_sql_max_open_connections"},
	{Name: "db_waits", Metric: "go_sql_wait_count_total", Counter: true},
	{Name: "db_wait_seconds", Metric: "go_sql_wait_duration_seconds_total", Counter: true},
}

// Limited reports whether a limit read from a source is one: Go's memory limit
// (go_gc_gomemlimit_bytes) is the largest int64 unless set, which means none.
func Limited(limit float64) bool { return limit > 0 && limit < 1<<60 }

// LimitOf names, for a default resource that has one, the resource that is its limit:
// what a share of it ("cpu < 80%") and its utilisation are read against.
var LimitOf = map[string]string{"cpu": "gomaxprocs", "memory": "memory_limit", "open_fds": "max_fds", "db_in_use": "db_max_open"}

// LimitNames lists LimitOf as "cpu of gomaxprocs, ...", in a fixed order.
func LimitNames() string {
	var out []string
	for _, s := range Defaults {
		if l, ok := LimitOf[s.Name]; ok {
			out = append(out, s.Name+" of "+l)
		}
	}
	return strings.Join(out, ", ")
}

// Snapshot is the series' values read at one instant, in the order of the series; a
// series the scrape did not have is not Present.
type Snapshot struct {
	At      time.Time
	Values  []float64
	Present []bool
	// Counts are a Mean series' observations so far (its Value is their sum).
	Counts []float64
}

// MaxScrape is the most of a metrics endpoint's answer that is read: a /metrics page of
// a service is tens of kilobytes; past this, the source is not one.
const MaxScrape = 16 << 20

// Parse reads one scrape in the text exposition format into a snapshot of the series.
// What the endpoint said never reaches an error unneutralised.
func Parse(r io.Reader, series []Series, at time.Time) (Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(io.LimitReader(r, MaxScrape))
	if err != nil {
		return Snapshot{}, fmt.Errorf("not the Prometheus text format: %s", safetext.Line(err.Error()))
	}
	s := Snapshot{At: at, Values: make([]float64, len(series)), Present: make([]bool, len(series)), Counts: make([]float64, len(series))}
	for i, se := range series {
		f, ok := families[se.Metric]
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			if !matches(m, se.Labels) {
				continue
			}
			v, n, ok := value(f.GetType(), m)
			if !ok || se.Mean && n < 0 {
				continue
			}
			s.Values[i] += v
			s.Counts[i] += n
			s.Present[i] = true
		}
	}
	return s, nil
}

func matches(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// value is a sample's number: a counter's, a gauge's or an untyped one's; a histogram
// or a summary counts its observations' sum, and n is how many there were (-1 for the
// other types).
func value(t dto.MetricType, m *dto.Metric) (v, n float64, ok bool) {
	n = -1
	switch t {
	case dto.MetricType_COUNTER:
		v = m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		v = m.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		v = m.GetUntyped().GetValue()
	case dto.MetricType_HISTOGRAM:
		v, n = m.GetHistogram().GetSampleSum(), float64(m.GetHistogram().GetSampleCount())
	case dto.MetricType_SUMMARY:
		v, n = m.GetSummary().GetSampleSum(), float64(m.GetSummary().GetSampleCount())
	default:
		return 0, 0, false
	}
	return v, n, !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Value is what one series did over a window; OK is false when it cannot be told (the
// series was missing from either end, or a counter went down: the target restarted).
type Value struct {
	V  float64
	OK bool
}

// Between is what each series did between two snapshots: a gauge's value at the end, a
// counter's increase a second, a Mean series' mean of what it observed in between (not
// told when it observed nothing).
func Between(series []Series, a, b Snapshot) []Value {
	out := make([]Value, len(series))
	secs := b.At.Sub(a.At).Seconds()
	for i, se := range series {
		if i >= len(b.Values) || !b.Present[i] {
			continue
		}
		if !se.Counter && !se.Mean {
			out[i] = Value{b.Values[i], true}
			continue
		}
		if i >= len(a.Values) || !a.Present[i] || secs <= 0 || b.Values[i] < a.Values[i] {
			continue
		}
		if se.Mean {
			if i < len(a.Counts) && i < len(b.Counts) && b.Counts[i] > a.Counts[i] {
				out[i] = Value{(b.Values[i] - a.Values[i]) / (b.Counts[i] - a.Counts[i]), true}
			}
			continue
		}
		out[i] = Value{(b.Values[i] - a.Values[i]) / secs, true}
	}
	return out
}

// Missing names the series a snapshot lacks, in order.
func Missing(series []Series, s Snapshot) []string {
	var out []string
	for i, se := range series {
		if i < len(s.Present) && !s.Present[i] {
			out = append(out, se.Name+" ("+se.Metric+")")
		}
	}
	return out
}

// Scraper reads a target's /metrics endpoint.
type Scraper struct {
	URL    string
	Series []Series
	Client *http.Client
	// Timeout bounds one scrape (default 5 s).
	Timeout time.Duration
}

// ErrScrape is wrapped by every error of a scrape: the source, not the target's load,
// failed.
var ErrScrape = errors.New("metrics source")

// Scrape reads the endpoint once.
func (s *Scraper) Scrape(ctx context.Context, at time.Time) (Snapshot, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w %s: %v", ErrScrape, safetext.HideURLPasswords(s.URL), err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w %s: %s", ErrScrape, safetext.HideURLPasswords(s.URL), safetext.Line(safetext.HideURLPasswords(err.Error())))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return Snapshot{}, fmt.Errorf("%w %s: status %d", ErrScrape, safetext.HideURLPasswords(s.URL), resp.StatusCode)
	}
	snap, err := Parse(resp.Body, s.Series, at)
	if err != nil {
		return Snapshot{}, fmt.Errorf("%w %s: %v", ErrScrape, safetext.HideURLPasswords(s.URL), err)
	}
	return snap, nil
}
