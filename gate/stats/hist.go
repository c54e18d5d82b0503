package stats

import (
	"errors"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Hist is a latency histogram kept small: its HdrHistogram settings and its non-zero
// counts by bucket index. A time window's histogram has the hold histogram's settings
// (1 us to the longest timeout, 3 significant digits), so that windows merge exactly with
// each other and with the hold; but a window holds a few hundred occupied buckets of the
// 17,000 such a histogram has, and a run keeps one per endpoint per window, so a full
// 139 KB histogram each would make memory grow with the run's length.
type Hist struct {
	// Lowest, Highest and SigFigs are the HdrHistogram settings.
	Lowest, Highest int64
	SigFigs         int64
	// Buckets is how many counts a histogram of these settings has.
	Buckets int32
	// Index and Count are the non-zero buckets, by ascending index.
	Index []int32
	Count []int64
}

// errSettings is the error of merging histograms of different settings.
var errSettings = errors.New("histograms of different settings do not merge")

// Compact returns h in compact form.
func Compact(h *hdrhistogram.Histogram) Hist {
	s := h.Export()
	c := Hist{Lowest: s.LowestTrackableValue, Highest: s.HighestTrackableValue, SigFigs: s.SignificantFigures, Buckets: int32(len(s.Counts))}
	for i, n := range s.Counts {
		if n != 0 {
			c.Index = append(c.Index, int32(i))
			c.Count = append(c.Count, n)
		}
	}
	return c
}

// Total is the number of values recorded.
func (c Hist) Total() int64 {
	var n int64
	for _, v := range c.Count {
		n += v
	}
	return n
}

// Histogram returns a full histogram holding the same counts, to read percentiles from
// or to merge into another.
func (c Hist) Histogram() *hdrhistogram.Histogram {
	counts := make([]int64, c.Buckets)
	for i, idx := range c.Index {
		if idx >= 0 && idx < c.Buckets {
			counts[idx] = c.Count[i]
		}
	}
	return hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue: c.Lowest, HighestTrackableValue: c.Highest, SignificantFigures: c.SigFigs, Counts: counts,
	})
}

// Merge returns the sum of two histograms of the same settings: exact, bucket for bucket.
// A zero Hist merges with any.
func (c Hist) Merge(o Hist) (Hist, error) {
	switch {
	case c.Buckets == 0:
		return o, nil
	case o.Buckets == 0:
		return c, nil
	case c.Lowest != o.Lowest || c.Highest != o.Highest || c.SigFigs != o.SigFigs || c.Buckets != o.Buckets:
		return Hist{}, errSettings
	}
	out := Hist{Lowest: c.Lowest, Highest: c.Highest, SigFigs: c.SigFigs, Buckets: c.Buckets}
	i, j := 0, 0
	for i < len(c.Index) || j < len(o.Index) {
		switch {
		case j == len(o.Index) || i < len(c.Index) && c.Index[i] < o.Index[j]:
			out.Index, out.Count = append(out.Index, c.Index[i]), append(out.Count, c.Count[i])
			i++
		case i == len(c.Index) || o.Index[j] < c.Index[i]:
			out.Index, out.Count = append(out.Index, o.Index[j]), append(out.Count, o.Count[j])
			j++
		default:
			out.Index, out.Count = append(out.Index, c.Index[i]), append(out.Count, c.Count[i]+o.Count[j])
			i, j = i+1, j+1
		}
	}
	return out, nil
}

// since returns the counts of cur (a histogram's exported counts) that were not yet in
// prev, an earlier compact copy of the same histogram: what was recorded in between.
func since(cur []int64, prev Hist, settings Hist) Hist {
	out := settings
	out.Index, out.Count = nil, nil
	j := 0
	for i, n := range cur {
		for j < len(prev.Index) && int(prev.Index[j]) < i {
			j++
		}
		if j < len(prev.Index) && int(prev.Index[j]) == i {
			n -= prev.Count[j]
		}
		if n != 0 {
			out.Index = append(out.Index, int32(i))
			out.Count = append(out.Count, n)
		}
	}
	return out
}
