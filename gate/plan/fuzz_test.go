package plan

import (
	"strings"
	"testing"
)

// FuzzTemplate: any text either compiles or is refused; a compiled template renders
// without panicking and, with no variables in it, renders to the text as written.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"Bearer {{token}}", "/a/{{ id }}/b", "{{", "}}{{x}}", "plain"} {
		f.Add(s, "v")
	}
	lookup := func(name string) (int, bool) {
		switch name {
		case "token":
			return 0, true
		case "id", "x":
			return 1, true
		}
		return 0, false
	}
	f.Fuzz(func(t *testing.T, s, value string) {
		tmpl, err := parseTemplate(s, queryEscape, nil, lookup)
		if err != nil {
			return
		}
		out := tmpl.Render([]string{value, value})
		if !strings.Contains(s, "{{") && out != s {
			t.Fatalf("%q rendered as %q", s, out)
		}
	})
}
