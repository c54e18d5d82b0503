package config

import (
	"errors"
	"testing"
)

// The parsers of user files must never panic, and every failure must be an error that
// names the file.

func FuzzParseConfig(f *testing.F) {
	f.Add(seedConfig)
	f.Add("target: ${A:-b}\nload: {users: 1, think: 1s..2s}\n")
	f.Add("tasks:\n  - path: /\n    expect: {status: 200}\n")
	f.Add("a: &x {b: 1}\nc: *x\n")
	f.Add("load:\n  users: 5\n  phases:\n    - {name: a, users: 1, settle: 1s}\n    - {name: peak, rate: 5/s}\n")
	f.Add("load: {profile: full, duration: 1m}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := ParseConfig("f.yaml", []byte(doc), env(map[string]string{"TARGET_URL": "http://x", "PERFGATE_PASSWORD": "p"}))
		var pe *Error
		if err != nil && (!errors.As(err, &pe) || pe.File != "f.yaml") {
			t.Fatalf("error without a file: %T %v", err, err)
		}
	})
}

func FuzzParseThresholds(f *testing.F) {
	f.Add("all:\n  - p99 < 300ms\nendpoints:\n  /a:\n    - error_rate < 1%\n")
	f.Add("capacity:\n  - capacity > 400/s\n  - knee >= baseline - 10%\n")
	f.Add("all: [p99 drift < 20%]\nphases:\n  a: [p99 < 2 * b.p99]\n  b:\n    all: [error_rate < a.error_rate + 1pp]\n    endpoints: {/x: [max < 1s]}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := ParseThresholds("t.yaml", []byte(doc), env(nil))
		var pe *Error
		if err != nil && (!errors.As(err, &pe) || pe.File != "t.yaml") {
			t.Fatalf("error without a file: %T %v", err, err)
		}
	})
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"p99 < 300ms", "error_rate<1%", "throughput >= 4800/m", "requests > 10", "p99.9 <= 1.5s",
		"p99 < 2 * single-user.p99 + 10%", "error_rate < baseline + 0.5pp", "p99 drift < 20%", "throughput drift > -10%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err == nil {
			if (r.Limit < 0 && !r.Drift) || r.Limit != r.Limit {
				t.Fatalf("ParseRule(%q) limit %v", s, r.Limit)
			}
			r2, err := ParseRule(r.Text)
			if err != nil || r2.Limit != r.Limit || r2.Op != r.Op || r2.Drift != r.Drift || (r.Ref == nil) != (r2.Ref == nil) ||
				(r.Ref != nil && *r.Ref != *r2.Ref) {
				t.Fatalf("rule text %q does not parse back the same: %v", r.Text, err)
			}
		}
	})
}

func FuzzParseThink(f *testing.F) {
	for _, s := range []string{"1s..3s", "0", "500ms", "1m..1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThink(s)
		if err == nil && (th.Min < 0 || th.Max < th.Min) {
			t.Fatalf("ParseThink(%q) = %v", s, th)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"150/s", "9000/m", "0/s", "1e3/h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s, true)
		if err == nil && (r < 0 || r != r) {
			t.Fatalf("ParseRate(%q) = %v", s, r)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"5m", "1m30s", "0", "250ms", "30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
	})
}

func FuzzParseAbortRule(f *testing.F) {
	for _, s := range []string{"error_rate > 50% for 20s", "p99 > 2s for 30s", "throughput < 10/s for 1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseAbortRule(s)
		if err == nil && r.For <= 0 {
			t.Fatalf("ParseAbortRule(%q) = %+v", s, r)
		}
	})
}
