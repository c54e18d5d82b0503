package estimate

import "math"

// StudentCDF is P(T <= x) for Student's t with df degrees of freedom (df > 0; +Inf is
// the normal distribution).
func StudentCDF(x, df float64) float64 {
	if math.IsInf(df, 1) || df > 1e7 {
		return 0.5 * math.Erfc(-x/math.Sqrt2)
	}
	// P(|T| > |x|) = I_{df/(df+x^2)}(df/2, 1/2).
	tail := 0.5 * incBeta(df/2, 0.5, df/(df+x*x))
	if x < 0 {
		return tail
	}
	return 1 - tail
}

// StudentQuantile is the x with StudentCDF(x, df) = p, for p in (0, 1).
func StudentQuantile(p, df float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p < 0.5:
		return -StudentQuantile(1-p, df)
	}
	lo, hi := 0.0, 1.0
	for StudentCDF(hi, df) < p {
		hi *= 2
		if hi > 1e12 {
			return hi
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if StudentCDF(mid, df) < p {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// incBeta is the regularized incomplete beta function I_x(a, b), by its continued
// fraction (Lentz's method), as in Numerical Recipes' betai.
func incBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d, c = 1+num*d, 1+num/c
		d = 1 / max(math.Abs(d), tiny) * sign(d)
		c = max(math.Abs(c), tiny) * sign(c)
		h *= d * c
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d, c = 1+num*d, 1+num/c
		d = 1 / max(math.Abs(d), tiny) * sign(d)
		c = max(math.Abs(c), tiny) * sign(c)
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return h
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}
