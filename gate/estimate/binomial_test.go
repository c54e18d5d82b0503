package estimate

import (
	"math"
	"testing"
)

// TestClopperPearson: the bounds against closed forms (no errors: 1 - tail^(1/n); all
// errors: tail^(1/n)), and for 3 of 100 the binomial sums at the bounds, term by term,
// against the tails asked for; the chance of k or more against a sum.
func TestClopperPearson(t *testing.T) {
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.8g, want %.8g", name, got, want)
		}
	}
	near("upper(0 of 800, 0.00625)", BinomialUpper(0, 800, 0.00625), 1-math.Pow(0.00625, 1.0/800), 1e-10)
	near("lower(0 of 800)", BinomialLower(0, 800, 0.05), 0, 0)
	near("lower(50 of 50, 0.05)", BinomialLower(50, 50, 0.05), math.Pow(0.05, 1.0/50), 1e-10)
	near("upper(50 of 50)", BinomialUpper(50, 50, 0.05), 1, 0)
	near("P(X >= 3 | lower(3 of 100, 0.05))", sum(3, 100, 100, BinomialLower(3, 100, 0.05)), 0.05, 1e-9)
	near("P(X <= 3 | upper(3 of 100, 0.05))", sum(0, 3, 100, BinomialUpper(3, 100, 0.05)), 0.05, 1e-9)
	near("P(X >= 2 | 10, 0.1)", BinomialAtLeast(2, 10, 0.1), sum(2, 10, 10, 0.1), 1e-12)
	near("P(X >= 0)", BinomialAtLeast(0, 10, 0.1), 1, 0)
	near("P(X >= 11 of 10)", BinomialAtLeast(11, 10, 0.1), 0, 0)
}

// sum is the chance of from to to successes of n trials at p, term by term.
func sum(from, to, n int, p float64) float64 {
	var s float64
	for k := from; k <= to; k++ {
		c := 1.0
		for i := 1; i <= k; i++ {
			c = c * float64(n-k+i) / float64(i)
		}
		s += c * math.Pow(p, float64(k)) * math.Pow(1-p, float64(n-k))
	}
	return s
}
