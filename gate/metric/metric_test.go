package metric

import (
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		q    float64
	}{
		{"p99", Latency, 99}, {"p99.9", Latency, 99.9}, {"p75", Latency, 75}, {"max", Latency, 0}, {"mean", Latency, 0},
		{"error_rate", Ratio, 0}, {"throughput", Rate, 0}, {"requests", Count, 0},
	}
	for _, tc := range cases {
		m, err := Lookup(tc.name)
		if err != nil || m.Kind() != tc.kind || m.Quantile != tc.q || m.Name != tc.name || m.String() != tc.name {
			t.Errorf("Lookup(%q) = %+v, %v", tc.name, m, err)
		}
	}
	for _, bad := range []string{"", "p", "p0", "p100", "p1e2", "p-5", "latency", "pNN", "P99"} {
		if _, err := Lookup(bad); err == nil || !strings.Contains(err.Error(), "unknown metric") {
			t.Errorf("Lookup(%q): %v", bad, err)
		}
	}
	for _, name := range Named() {
		if _, err := Lookup(name); err != nil {
			t.Errorf("a listed metric does not look up: %v", err)
		}
	}
	if got := strings.Join(OverTimeNamed(), ","); strings.Contains(got, "requests") || !strings.Contains(got, "p99,") {
		t.Errorf("over time: %s", got)
	}
}

func TestRead(t *testing.T) {
	h := hdrhistogram.New(1, 60e6, 3)
	for v := int64(1); v <= 1000; v++ {
		_ = h.RecordValue(v * 1000) // 1..1000 ms
	}
	f := Figures{Requests: 1000, Errors: 25, Throughput: 50, Latency: h}
	want := map[string]float64{"p50": 0.5, "p99": 0.99, "max": 1, "mean": 0.5005, "error_rate": 0.025, "throughput": 50, "requests": 1000}
	for name, w := range want {
		m, _ := Lookup(name)
		if v, ok := m.Read(f); !ok || v < w*0.999 || v > w*1.001 {
			t.Errorf("%s = %v (%v), want %v within 0.1%%", name, v, ok, w)
		}
	}
	// Nothing completed: latencies and error rate have no value; throughput and
	// requests are 0.
	for name, wantOK := range map[string]bool{"p99": false, "mean": false, "error_rate": false, "throughput": true, "requests": true} {
		m, _ := Lookup(name)
		if v, ok := m.Read(Figures{}); ok != wantOK || v != 0 {
			t.Errorf("%s of nothing = %v, %v", name, v, ok)
		}
	}
	// Requests counted but no histogram kept: no latency to read.
	if _, ok := (Metric{Name: "p99", Quantile: 99}).Read(Figures{Requests: 3}); ok {
		t.Error("a latency read without a histogram")
	}
	if Latency.String() != "latency" || Count.String() != "count" || Kind(9).String() != "unknown" {
		t.Error("kind names")
	}
}
