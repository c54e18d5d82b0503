package plan

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Template is text with {{name}} holes filled per user at request time. Holes are
// numbered slots into the user's variables, so rendering does no map look-ups.
type Template struct {
	parts []part
}

type part struct {
	lit    string
	slot   int // -1 for a literal
	escape func(string) string
}

// Static reports whether the template has no holes.
func (t Template) Static() bool {
	for _, p := range t.parts {
		if p.slot >= 0 {
			return false
		}
	}
	return true
}

// Render fills the holes from vars, indexed by slot.
func (t Template) Render(vars []string) string {
	switch len(t.parts) {
	case 0:
		return ""
	case 1:
		if t.parts[0].slot < 0 {
			return t.parts[0].lit
		}
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.slot < 0 {
			b.WriteString(p.lit)
			continue
		}
		v := vars[p.slot]
		if p.escape != nil {
			v = p.escape(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// Literal returns a template without holes.
func Literal(s string) Template {
	if s == "" {
		return Template{}
	}
	return Template{parts: []part{{lit: s, slot: -1}}}
}

// concat joins templates.
func concat(ts ...Template) Template {
	var out Template
	for _, t := range ts {
		for _, p := range t.parts {
			if n := len(out.parts); n > 0 && p.slot < 0 && out.parts[n-1].slot < 0 {
				out.parts[n-1].lit += p.lit
				continue
			}
			out.parts = append(out.parts, p)
		}
	}
	return out
}

// parseTemplate compiles s; lookup returns the slot of a variable name or false.
// escape applies to the values filled in; escapeLiterals (if not nil) to the text
// around them.
func parseTemplate(s string, escape, escapeLiterals func(string) string, lookup func(string) (int, bool)) (Template, error) {
	var t Template
	lit := func(x string) part {
		if escapeLiterals != nil {
			x = escapeLiterals(x)
		}
		return part{lit: x, slot: -1}
	}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if s != "" {
				t.parts = append(t.parts, lit(s))
			}
			return concat(t), nil
		}
		if i > 0 {
			t.parts = append(t.parts, lit(s[:i]))
		}
		end := strings.Index(s[i:], "}}")
		if end < 0 {
			return t, fmt.Errorf("unclosed {{ in %q", s)
		}
		name := strings.TrimSpace(s[i+2 : i+end])
		slot, ok := lookup(name)
		if !ok {
			return t, fmt.Errorf("{{%s}} is not extracted by any earlier setup step", name)
		}
		t.parts = append(t.parts, part{slot: slot, escape: escape})
		s = s[i+end+2:]
	}
}

// jsonEscape escapes a value for use inside a JSON string literal.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

var (
	pathEscape  = url.PathEscape
	queryEscape = url.QueryEscape
)
