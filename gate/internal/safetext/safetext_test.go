package safetext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text: /api/products/:id, 12ms", "plain text: /api/products/:id, 12ms"},
		{"", ""},
		{"two\nlines", `two\nlines`},
		{"cr\rlf", `cr\rlf`},
		{"tab\there", `tab\there`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00byte", `nul\x00byte`},
		{"del\x7f", `del\x7f`},
		{"bad \xff utf-8", `bad \xff utf-8`},
		{"next line\u0085x", `next line\u0085x`},
		{"separator\u2028x", `separator\u2028x`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"\ufeffbom", `\ufeffbom`},
		{"::error::owned", `\::error::owned`},
		{"   ::set-output name=verdict::pass", `   \::set-output name=verdict::pass`},
		{"\u00a0\u3000::warning::x", "\u00a0\u3000\\::warning::x"},
		{"mid :: line is no command", "mid :: line is no command"},
		{"x ##[error]owned", `x ##\[error]owned`},
		{"##[add-mask]a ##[b]", `##\[add-mask]a ##\[b]`},
		{"ok\n::error::injected on a new line", `ok\n::error::injected on a new line`},
		{"éàü, 日本語, emoji 🚀", "éàü, 日本語, emoji 🚀"},
	}
	for _, tc := range cases {
		got := Line(tc.in)
		if got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := Line(got); again != got {
			t.Errorf("Line is not idempotent on %q: %q", got, again)
		}
	}
}

// FuzzLine: whatever the input, the output is one line of valid UTF-8 that no GitHub
// workflow command can start or hide in, and Line leaves its own output alone.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"a\nb", "::x::y", "##[z]", "\x1b[0m", "\u202e", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n\x00\x1b\u2028\u2029\u0085") || strings.Contains(got, "##[") {
			t.Fatalf("Line(%q) = %q", s, got)
		}
		if strings.HasPrefix(strings.TrimLeftFunc(got, func(r rune) bool { return unicode.IsSpace(r) || r == '\u180e' }), "::") {
			t.Fatalf("Line(%q) = %q starts a workflow command", s, got)
		}
		if Line(got) != got {
			t.Fatalf("Line(Line(%q)) changed it again", s)
		}
	})
}

func TestRewrite(t *testing.T) {
	type inner struct {
		Name string
		Raw  string `safetext:"raw"`
		hide string
	}
	v := struct {
		A    string
		P    *inner
		L    []inner
		M    map[string]int64
		I    any
		Skip int
	}{
		A: "a\nb", P: &inner{Name: "::x", Raw: "a\nb", hide: "a\nb"}, L: []inner{{Name: "\t"}},
		M: map[string]int64{"k\n": 1}, I: "##[y]",
	}
	Rewrite(&v, Line)
	if v.A != `a\nb` || v.P.Name != `\::x` || v.P.Raw != "a\nb" || v.P.hide != "a\nb" || v.L[0].Name != `\t` || v.M[`k\n`] != 1 || len(v.M) != 1 || v.I != `##\[y]` {
		t.Errorf("rewritten: %+v %+v %+v", v, *v.P, v.L)
	}
}

func TestRedact(t *testing.T) {
	got := Redact("token abc123 and abc123456 and hunter2", []string{"abc123", "abc123456", "hunter2", ""})
	if got != "token *** and *** and ***" {
		t.Errorf("Redact = %q", got)
	}
	if Redact("nothing", nil) != "nothing" {
		t.Error("no secrets")
	}
}

func TestHideURLPasswords(t *testing.T) {
	cases := map[string]string{
		"http://user:hunter2@host/x":                    "http://user:xxxxx@host/x",
		"target \"https://u:p%zz@h:8443\" is not valid": "target \"https://u:xxxxx@h:8443\" is not valid",
		"http://u:p@ss@host/":                           "http://u:xxxxx@host/",
		"http://user@host and http://host:80/path":      "http://user@host and http://host:80/path",
		"no url here":                      "no url here",
		"two: http://a:b@x, https://c:d@y": "two: http://a:xxxxx@x, https://c:xxxxx@y",
	}
	for in, want := range cases {
		if got := HideURLPasswords(in); got != want {
			t.Errorf("HideURLPasswords(%q) = %q, want %q", in, got, want)
		}
	}
}
