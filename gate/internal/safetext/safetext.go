// Package safetext makes text that perfgate did not write itself safe to print: a TLS
// certificate's names in an error, a server's words, a value from a user's files or from
// the environment. Such text reaches CI logs, which GitHub Actions reads for workflow
// commands (a line that starts with "::", or holds "##[" anywhere), and terminals, which
// obey escape sequences. Line is the one function that neutralises it; every writer of
// perfgate's output uses it, directly or through the report model (Rewrite).
package safetext

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s as it may be printed as part of a single line of a log, escaped where it
// has to be and unchanged elsewhere (and unchanged by a second Line):
//   - control characters (line breaks, tabs, escape sequences, C1 controls), Unicode's
//     line and paragraph separators, bidirectional overrides and a byte-order mark become
//     visible escapes (\n, \x1b, \u2028...), as do bytes that are not UTF-8: no line can be
//     split, hidden or reordered;
//   - "##[", a workflow command wherever it stands in a line, becomes "##\[";
//   - "::" at its start, after any white space, becomes "\::": a line that starts with
//     s cannot start with a workflow command, and one in its middle is no command.
func Line(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	out := strings.ReplaceAll(b.String(), "##[", `##\[`)
	if rest := strings.TrimLeftFunc(out, unicode.IsSpace); strings.HasPrefix(rest, "::") {
		out = out[:len(out)-len(rest)] + `\` + rest
	}
	return out
}

// plain reports whether s needs no escaping: printable ASCII without "##[" or a leading
// "::" (the common case, so that Line costs nothing for it).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.Contains(s, "##[") && !strings.HasPrefix(strings.TrimLeft(s, " "), "::")
}

// hidden reports whether r, though not an ASCII control, changes how a line reads: C1
// controls, line and paragraph separators, bidirectional marks and overrides (which can
// make a terminal show text in another order than it is), zero-width characters, the
// byte-order mark and the Mongolian vowel separator (white space to older Unicode
// versions, so to some trimming of a line).
func hidden(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\ufeff', r == '\u180e':
		return true
	case r >= '\u200b' && r <= '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Rewrite replaces every string reachable from v (a pointer: fields of structs, elements
// of slices and arrays, map keys and values, through pointers and interfaces) with
// f(string), in place. Unexported fields, and fields tagged `safetext:"raw"` (an
// encoding, such as a histogram's base64, that f must not touch), are left alone.
func Rewrite(v any, f func(string) string) {
	rewrite(reflect.ValueOf(v), f)
}

func rewrite(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			e := v.Elem()
			if v.Kind() == reflect.Interface && e.Kind() == reflect.String {
				if v.CanSet() {
					v.Set(reflect.ValueOf(f(e.String())))
				}
				return
			}
			rewrite(e, f)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(f(v.String()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if field := v.Type().Field(i); field.IsExported() && field.Tag.Get("safetext") != "raw" {
				rewrite(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			rewrite(v.Index(i), f)
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(iter.Key())
			rewrite(k, f)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(iter.Value())
			rewrite(e, f)
			out.SetMapIndex(k, e)
		}
		v.Set(out)
	}
}

// Redact replaces every occurrence of a secret in s with "***", the longest secrets
// first, so that no part of one survives another's replacement.
func Redact(s string, secrets []string) string {
	if s == "" || len(secrets) == 0 {
		return s
	}
	sorted := append([]string(nil), secrets...)
	for i := range sorted { // insertion sort by length, longest first: lists are short
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, secret := range sorted {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// urlPassword finds the password of a URL's user info: scheme://user:password@.
var urlPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\s:]*:)[^/?#\s]*@`)

// HideURLPasswords replaces the password of every URL in s with "xxxxx", as
// net/url's Redacted writes it, whether or not the URL parses: a password the URL parser
// cannot read (a space in it, a stray %) is still a password.
func HideURLPasswords(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPassword.ReplaceAllString(s, "${1}xxxxx@")
}
