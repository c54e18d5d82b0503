package verdict

import (
	"sort"
	"time"

	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/stats"
)

// MinDriftWindows is the fewest windows a drift rule judges: three at the start and
// three at the end, with the middle between them.
const MinDriftWindows = 9

// Drift compares the start of a hold with its end: it returns the median of the metric
// over the first third of the windows and over the last third, and how many windows
// could be judged. A median of three or more windows ignores any one of them, so one
// noisy window (a GC pause, a neighbour's burst) cannot trip a drift rule; a real drift
// moves every window. Windows shorter than half the longest (the last, partial one)
// and, for latency and error rate, windows without requests are left out. endpoint is
// an index into the windows' endpoints, or -1 for all requests.
func Drift(m metric.Metric, windows []stats.Window, endpoint int) (from, to float64, n int) {
	var longest time.Duration
	for _, w := range windows {
		longest = max(longest, w.Length)
	}
	var vals []float64
	for _, w := range windows {
		if w.Length*2 < longest {
			continue
		}
		if v, ok := m.Read(w.Figures(endpoint)); ok {
			vals = append(vals, v)
		}
	}
	n = len(vals)
	if n < MinDriftWindows {
		return 0, 0, n
	}
	third := n / 3
	return median(vals[:third]), median(vals[n-third:]), n
}

func median(vals []float64) float64 {
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
