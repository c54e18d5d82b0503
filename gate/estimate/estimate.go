// Package estimate says how far a figure measured over a hold could be from what the
// same load would measure again: a standard error, with its degrees of freedom, from the
// hold's time windows.
//
// Requests are not independent samples: a slow second (a collection, a neighbour's
// burst) makes many requests slow together, so an error computed as if each request
// were independent is far too small. Consecutive windows are grouped into batches long
// enough to be nearly independent of each other (from the windows' own lag-1
// autocorrelation), and each batch is one observation of a cluster sample:
//
//   - a percentile by Woodruff's method: the share of requests at or below the measured
//     value is a ratio of batch totals, whose cluster variance maps back through the
//     hold's own distribution to a spread of the percentile;
//   - an error rate and a mean latency as ratios of batch totals (errors over requests,
//     summed latency over requests), a throughput as requests over seconds.
//
// Measured on synthetic series (TestCoverage), 95% intervals from these errors hold the
// true value in 91-98% of runs for independent windows and 89-99% for windows whose level
// drifts (AR(1), phi 0.5); a circular block bootstrap of the same windows, tried first,
// held it in about 70%.
package estimate

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/metric"
	"github.com/perfgate/perfgate/gate/stats"
)

// Estimate is a figure with its standard error.
type Estimate struct {
	// Value is the figure over the windows, in the metric's base unit; SE its standard
	// error in the same unit, with DF degrees of freedom (batches less one). Below and
	// Above are the error on each side, for a percentile, whose distribution is skewed
	// (a p99 of a few hundred requests may be far above, never far below); both are SE
	// for the other metrics.
	Value, SE, DF float64
	Below, Above  float64
	// Windows counts the windows with requests, and Requests the requests in them;
	// Batches the groups they were judged in.
	Windows, Batches int
	Requests         int64
	// A percentile's own interval (Woodruff's): the hold's distribution, the share q
	// the percentile is at, and that share's standard error.
	hist     *hdrhistogram.Histogram
	q, share float64
	// A binomial error rate's errors (of Requests).
	binomial bool
	errors   int64
}

// Woodruff reports whether the estimate is a percentile's, whose interval is read from
// the hold's own distribution (Bounds) rather than from its standard error.
func (e Estimate) Woodruff() bool { return e.hist != nil }

// Bounds are the values t standard errors below and above the estimate: for a
// percentile, the hold's values at the shares q - t*s and q + t*s (s the share's
// error), which never leave the range of what was measured; otherwise Value -/+ t*SE.
func (e Estimate) Bounds(tBelow, tAbove float64) (lo, hi float64) {
	if e.hist == nil {
		return e.Value - tBelow*e.SE, e.Value + tAbove*e.SE
	}
	lo, hi = e.at(e.q-tBelow*e.share), e.at(e.q+tAbove*e.share)
	res := e.Value * resolution(e.hist.SignificantFigures())
	return min(lo, e.Value-res), max(hi, e.Value+res)
}

// Z is how many standard errors the estimate lies above limit: for a percentile,
// (q - F(limit)) / s, F(limit) being the share of the hold's values at or below limit
// (seconds); otherwise (Value - limit) / SE.
func (e Estimate) Z(limit float64) float64 {
	if e.hist == nil {
		if e.SE == 0 {
			return math.Copysign(math.Inf(1), e.Value-limit)
		}
		return (e.Value - limit) / e.SE
	}
	us := int64(limit * 1e6)
	var below int64
	for _, b := range e.hist.Distribution() {
		if b.To <= us {
			below += b.Count
		}
	}
	f := float64(below) / float64(e.hist.TotalCount())
	return (e.q - f) / e.share
}

func (e Estimate) at(share float64) float64 {
	return float64(e.hist.ValueAtPercentile(min(100, max(0, share*100)))) / 1e6
}

// MinWindows is the fewest windows with requests an error is estimated from: fewer give
// too few batches to say anything about how the figure varies.
const MinWindows = 4

// Statistical reports whether a metric's figure has an error estimated here: percentiles,
// the mean, the error rate and the throughput. The maximum and the request count are
// what happened, not estimates of anything.
func Statistical(m metric.Metric) bool {
	switch m.Name {
	case "max", "requests":
		return false
	}
	return true
}

// Of estimates metric m of scope endpoint (-1: all requests) from windows (a hold's).
// ok is false for a metric that is not Statistical, or fewer than MinWindows windows
// with requests.
func Of(m metric.Metric, windows []stats.Window, endpoint int) (e Estimate, ok bool) {
	if !Statistical(m) {
		return Estimate{}, false
	}
	var ws []stats.Window
	for _, w := range windows {
		if w.Length > 0 && (w.Of(endpoint).Requests > 0 || m.Kind() == metric.Rate) {
			ws = append(ws, w)
		}
	}
	if len(ws) < MinWindows {
		return Estimate{}, false
	}
	var y, x []float64 // a ratio y/x per window: its numerator and denominator
	var value func(b *batches) (float64, float64)
	switch {
	case m.Quantile > 0:
		return quantile(m.Quantile, ws, endpoint)
	case m.Kind() == metric.Ratio: // errors over requests
		for _, w := range ws {
			c := w.Of(endpoint)
			y, x = append(y, float64(c.Errors)), append(x, float64(c.Requests))
		}
		value = func(b *batches) (float64, float64) {
			// Never below the error of as many independent requests, at Agresti and
			// Coull's rate of two more errors in four more requests: a rate of 0 in n
			// requests is not known to be 0, only to be under about 3/n.
			p := (b.Y + 2) / (b.X + 4)
			return b.Y / b.X, math.Sqrt(p * (1 - p) / b.X)
		}
	case m.Kind() == metric.Rate: // requests over seconds
		for _, w := range ws {
			y, x = append(y, float64(w.Of(endpoint).Requests)), append(x, w.Length.Seconds())
		}
		value = func(b *batches) (float64, float64) { return b.Y / b.X, 0 }
	default: // the mean: summed latency over requests
		for _, w := range ws {
			c := w.Of(endpoint)
			h := c.Latency.Histogram()
			y, x = append(y, h.Mean()*float64(h.TotalCount())/1e6), append(x, float64(h.TotalCount()))
		}
		value = func(b *batches) (float64, float64) { return b.Y / b.X, 0 }
	}
	b := group(y, x)
	if b.X == 0 {
		return Estimate{}, false
	}
	v, floor := value(b)
	var n int64
	for _, w := range ws {
		n += w.Of(endpoint).Requests
	}
	e = Estimate{Value: v, SE: b.se(v), DF: float64(b.k - 1), Windows: len(ws), Batches: b.k, Requests: n}
	if floor > 0 && floor >= e.SE {
		// The windows vary no more than independent requests would: the error is the
		// binomial model's, known exactly rather than estimated from a few batches.
		e.SE, e.DF, e.binomial, e.errors = floor, math.Inf(1), true, int64(b.Y)
	}
	e.Below, e.Above = e.SE, e.SE
	return e, true
}

// Binomial reports whether the estimate is an error rate whose windows varied no more
// than independent requests would: its interval is then the exact binomial one
// (BinomialBounds), and its degrees of freedom infinite.
func (e Estimate) Binomial() bool { return e.binomial }

// BinomialBounds are the exact (Clopper and Pearson) binomial bounds of a Binomial
// estimate's rate: lo leaves a chance of tailBelow of as many errors or more below it,
// hi a chance of tailAbove of as few errors or fewer above it.
func (e Estimate) BinomialBounds(tailBelow, tailAbove float64) (lo, hi float64) {
	return BinomialLower(e.errors, e.Requests, tailBelow), BinomialUpper(e.errors, e.Requests, tailAbove)
}

// BinomialP is the chance of as many errors as the estimate's or more (up: the rate is
// judged against an upper limit), or as few or fewer, if the rate were exactly limit.
func (e Estimate) BinomialP(limit float64, up bool) float64 {
	if up {
		return BinomialAtLeast(e.errors, e.Requests, limit)
	}
	return 1 - BinomialAtLeast(e.errors+1, e.Requests, limit)
}

// quantile is Woodruff's interval for percentile q: with v the hold's q-th percentile,
// the share of requests at or below v is a ratio of batch totals; its standard error s
// is read back as a percentile spread, (Q(q + s) - Q(q - s)) / 2, from the hold's own
// distribution Q.
func quantile(q float64, ws []stats.Window, endpoint int) (Estimate, bool) {
	var all stats.Hist
	for _, w := range ws {
		all, _ = all.Merge(w.Of(endpoint).Latency) // a run's windows share their settings
	}
	n := all.Total()
	if n == 0 {
		return Estimate{}, false
	}
	// The bucket the percentile falls in, as HdrHistogram finds it.
	want := max(1, int64(q/100*float64(n)+0.5))
	var star int32
	for i, sum := 0, int64(0); i < len(all.Index); i++ {
		sum += all.Count[i]
		if sum >= want {
			star = all.Index[i]
			break
		}
	}
	y, x := make([]float64, len(ws)), make([]float64, len(ws))
	for i, w := range ws {
		h := w.Of(endpoint).Latency
		for j, idx := range h.Index {
			x[i] += float64(h.Count[j])
			if idx <= star {
				y[i] += float64(h.Count[j])
			}
		}
	}
	b := group(y, x)
	p := b.Y / b.X
	s := max(b.se(p), math.Sqrt(p*(1-p)/b.X))
	h := all.Histogram()
	at := func(share float64) float64 {
		return float64(h.ValueAtPercentile(min(100, max(0, share*100)))) / 1e6
	}
	v := at(q / 100)
	lo, hi := at(q/100-s), at(q/100+s)
	// A spread inside one bucket is known to the histogram's resolution only.
	res := v * resolution(all.SigFigs)
	return Estimate{Value: v, SE: max((hi-lo)/2, res), Below: max(v-lo, res), Above: max(hi-v, res),
		DF: float64(b.k - 1), Windows: len(ws), Batches: b.k, Requests: n, hist: h, q: q / 100, share: s}, true
}

// resolution is half a bucket's relative width at sig significant figures.
func resolution(sig int64) float64 { return 0.5 * math.Pow(10, -float64(sig)) }

// batches are windows grouped into k batches of consecutive windows, each a ratio's
// numerator and denominator summed.
type batches struct {
	y, x []float64
	k    int
	Y, X float64
}

// group sums consecutive windows into batches long enough to be nearly independent:
// with r the lag-1 autocorrelation of the windows' residuals, twice (1 + r) / (1 - r)
// windows (the factor by which an AR(1) series' positive correlation inflates a mean's
// variance: batches that long leave little correlation between neighbours); one window
// when r <= 0. At least MinWindows batches are kept.
func group(y, x []float64) *batches {
	var Y, X float64
	for i := range y {
		Y, X = Y+y[i], X+x[i]
	}
	size := 1
	if X > 0 {
		ratio := Y / X
		var num, den float64
		for i := range y {
			d := y[i] - ratio*x[i]
			den += d * d
			if i > 0 {
				num += d * (y[i-1] - ratio*x[i-1])
			}
		}
		if r := num / den; den > 0 && r > 0 {
			size = int(math.Ceil(2 * (1 + r) / (1 - min(r, 0.95))))
		}
	}
	size = max(1, min(size, len(y)/MinWindows))
	b := &batches{Y: Y, X: X}
	for i := 0; i < len(y); i += size {
		// The last batch takes the windows left over.
		end := i + size
		if len(y)-end < size {
			end = len(y)
		}
		var sy, sx float64
		for j := i; j < end; j++ {
			sy, sx = sy+y[j], sx+x[j]
		}
		b.y, b.x = append(b.y, sy), append(b.x, sx)
		if end == len(y) {
			break
		}
	}
	b.k = len(b.y)
	return b
}

// se is the cluster (linearised) standard error of the ratio Y/X = ratio over the
// batches.
func (b *batches) se(ratio float64) float64 {
	if b.k < 2 || b.X == 0 {
		return 0
	}
	mean := b.X / float64(b.k)
	var ss float64
	for j := range b.y {
		d := (b.y[j] - ratio*b.x[j]) / mean
		ss += d * d
	}
	return math.Sqrt(ss / float64(b.k*(b.k-1)))
}
