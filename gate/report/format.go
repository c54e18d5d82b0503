package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// FormatValue prints a value of a metric kind in its natural unit.
func FormatValue(kind string, v float64) string {
	switch kind {
	case "latency":
		return Seconds(v)
	case "ratio":
		return strconv.FormatFloat(round(v*100, 2), 'f', -1, 64) + "%"
	case "rate":
		return strconv.FormatFloat(round(v, 1), 'f', -1, 64) + "/s"
	case "change": // a drift: a signed fraction of the start's value
		return signed(round(v*100, 1)) + "%"
	case "ratio_change": // a drift of error rate: a signed difference of rates
		return signed(round(v*100, 2)) + "pp"
	}
	return Count(int64(v))
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Seconds prints a latency given in seconds with a readable unit.
func Seconds(s float64) string { return Duration(time.Duration(s * float64(time.Second))) }

// Duration prints a latency with three significant figures.
func Duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dus", d.Microseconds())
	case d < time.Second:
		return trim(fmt.Sprintf("%.3g", float64(d)/float64(time.Millisecond))) + "ms"
	default:
		return trim(fmt.Sprintf("%.3g", d.Seconds())) + "s"
	}
}

// Ms prints milliseconds as a latency.
func Ms(ms float64) string { return Duration(time.Duration(ms * float64(time.Millisecond))) }

func trim(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -round(-v, digits)
	}
	if v*p >= 1<<53 {
		return v // past 2^53 a float64 holds no fraction to round off
	}
	return math.Floor(v*p+0.5) / p
}

// Count prints an integer with thousands separators.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Percent prints a fraction as a percentage with two decimals.
func Percent(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }
