package verdict

import (
	"strings"
	"testing"
	"time"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/resource"
)

// TestResourceRules: a resource rule judges the mean over the main phase's hold of the
// windows that read it; a share reads each window's value against its limit; a rule
// whose resource most windows did not read fails closed (no valid verdict), and the
// latency rules are still judged.
func TestResourceRules(t *testing.T) {
	series := []resource.Series{{Name: "cpu"}, {Name: "gomaxprocs"}, {Name: "db_waits", Counter: true}}
	rr := func(text string, series, limit int) plan.ResourceRule {
		r, err := config.ParseResourceRule(text)
		if err != nil {
			t.Fatal(err)
		}
		return plan.ResourceRule{ResourceRule: r, Series: series, LimitSeries: limit}
	}
	hold, ws := process{scale: 10}.measure(1, 12, 200)
	// cpu 0.5 then 1.5 of 2 processors (a mean share of 50%), db_waits 0 but in one
	// window; db_waits unread in 9 of 12 windows for the last case.
	judge := func(rules []plan.ResourceRule, unread int) Verdict {
		rec := record(hold, ws, plan.Load{Hold: 12 * time.Second})
		for i := range rec.Windows {
			cpu, waits := 0.5, 0.0
			if i%2 == 1 {
				cpu = 1.5
			}
			if i == 5 {
				waits = 3
			}
			rec.Windows[i].Resources = []resource.Value{{V: cpu, OK: true}, {V: 2, OK: true}, {V: waits, OK: i >= unread}}
			if i < unread {
				rec.Windows[i].ResourceError = "GET http://127.0.0.1:9/metrics: connection refused"
			}
		}
		return Judge(&plan.Plan{Rules: []plan.Rule{rule(t, "p99 < 1s", -1)}, Confidence: 0.95, Main: 0,
			Resources: &plan.Resources{Series: series}, ResourceRules: rules}, rec)
	}
	v := judge([]plan.ResourceRule{rr("cpu < 80%", 0, 1), rr("cpu < 1.2", 0, -1), rr("db_waits == 0", 2, -1)}, 0)
	if v.Status != Fail || len(v.Resources) != 3 || v.Checks[0].Status != Pass {
		t.Fatalf("verdict %v, checks %+v, resources %+v", v.Status, v.Checks, v.Resources)
	}
	for i, want := range []struct {
		status   Status
		measured float64
	}{{Pass, 0.5}, {Pass, 1}, {Fail, 0.25}} {
		if c := v.Resources[i]; c.Status != want.status || c.Measured != want.measured || c.Windows != 12 || c.Of != 12 {
			t.Errorf("%s: %+v, want %v at %v", c.Rule.Text, c, want.status, want.measured)
		}
	}
	// Read in 3 of 12 windows: no data, and no valid verdict; the latency rule stands.
	v = judge([]plan.ResourceRule{rr("db_waits == 0", 2, -1)}, 9)
	c := v.Resources[0]
	if v.Status != Invalid || c.Status != Invalid || len(v.Reasons) != 1 || v.Reasons[0].Code != ResourceUnread ||
		!strings.Contains(v.Reasons[0].Detail, "db_waits == 0: db_waits was read in 3 of the hold's 12 windows: GET http://127.0.0.1:9/metrics: connection refused") ||
		v.Checks[0].Status != Pass {
		t.Errorf("verdict %v, check %+v, reasons %+v", v.Status, c, v.Reasons)
	}
}
