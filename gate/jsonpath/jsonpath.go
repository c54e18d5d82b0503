// Package jsonpath reads one value out of a JSON document with a small subset of JSONPath:
// $.name, $.a.b, $.items[0].id, $['odd key'] and $["odd key"]. It is what `extract:`
// understands; it has no filters or wildcards because a per-user value is one value.
package jsonpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Path is a compiled JSON path.
type Path struct {
	text  string
	steps []step
}

type step struct {
	key   string
	index int // used when isIdx
	isIdx bool
}

// String returns the path as written.
func (p Path) String() string { return p.text }

// Compile parses a path that starts with "$".
func Compile(s string) (Path, error) {
	p := Path{text: s}
	if !strings.HasPrefix(s, "$") {
		return p, fmt.Errorf("JSON path %q must start with $, as in $.access_token", s)
	}
	rest := s[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return p, fmt.Errorf("JSON path %q has an empty name after a dot", s)
			}
			p.steps = append(p.steps, step{key: rest[:end]})
			rest = rest[end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, fmt.Errorf("JSON path %q has an unclosed [", s)
			}
			inner := rest[1:end]
			rest = rest[end+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				p.steps = append(p.steps, step{key: inner[1 : len(inner)-1]})
				continue
			}
			i, err := strconv.Atoi(inner)
			if err != nil || i < 0 {
				return p, fmt.Errorf("JSON path %q: [%s] is neither an index nor a quoted name", s, inner)
			}
			p.steps = append(p.steps, step{index: i, isIdx: true})
		default:
			return p, fmt.Errorf("JSON path %q: unexpected %q (write $.name or $['name'])", s, rest[:1])
		}
	}
	if len(p.steps) == 0 {
		return p, fmt.Errorf("JSON path %q selects the whole document: name a field, as in $.access_token", s)
	}
	return p, nil
}

// Lookup finds the path in a JSON document. Strings come back unquoted; numbers and
// booleans as their JSON text; objects and arrays as compact JSON. The error never
// quotes the document, which may hold secrets.
func (p Path) Lookup(doc []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("response is not JSON, so %s cannot be read from it", p.text)
	}
	for i, st := range p.steps {
		switch cur := v.(type) {
		case map[string]any:
			if st.isIdx {
				return "", fmt.Errorf("%s: %s is an object, not a list", p.text, p.prefix(i))
			}
			next, ok := cur[st.key]
			if !ok {
				return "", fmt.Errorf("%s not found in the response", p.text)
			}
			v = next
		case []any:
			if !st.isIdx {
				return "", fmt.Errorf("%s: %s is a list, not an object", p.text, p.prefix(i))
			}
			if st.index >= len(cur) {
				return "", fmt.Errorf("%s: %s has only %d items", p.text, p.prefix(i), len(cur))
			}
			v = cur[st.index]
		default:
			return "", fmt.Errorf("%s not found in the response", p.text)
		}
	}
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("%s is null in the response", p.text)
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	default:
		b, _ := json.Marshal(x)
		return string(b), nil
	}
}

func (p Path) prefix(n int) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, st := range p.steps[:n] {
		if st.isIdx {
			fmt.Fprintf(&b, "[%d]", st.index)
		} else {
			b.WriteString("." + st.key)
		}
	}
	return b.String()
}
