package estimate

// BinomialAtLeast is the chance of k or more successes in n independent trials, each
// with chance p: I_p(k, n - k + 1).
func BinomialAtLeast(k, n int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	}
	return incBeta(float64(k), float64(n-k+1), p)
}

// BinomialLower is Clopper and Pearson's lower bound for the chance of a success, from k
// successes in n trials: the p at which k or more successes have chance tail (0 for
// k = 0).
func BinomialLower(k, n int64, tail float64) float64 {
	if k <= 0 || n <= 0 {
		return 0
	}
	return solve(func(p float64) float64 { return BinomialAtLeast(k, n, p) }, tail)
}

// BinomialUpper is Clopper and Pearson's upper bound: the p at which k or fewer
// successes in n trials have chance tail (1 for k = n).
func BinomialUpper(k, n int64, tail float64) float64 {
	if k >= n {
		return 1
	}
	return solve(func(p float64) float64 { return BinomialAtLeast(k+1, n, p) }, 1-tail)
}

// solve finds by bisection the p in [0, 1] at which f, increasing in p, reaches y.
func solve(f func(float64) float64, y float64) float64 {
	lo, hi := 0.0, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if f(mid) < y {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12*max(hi, 1e-300) {
			break
		}
	}
	return (lo + hi) / 2
}
