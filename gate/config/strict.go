package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Positions remembers where a mapping and each of its values stood in the file, so that
// checks made after decoding (by this package or the plan) can still point at the line.
type Positions struct {
	Node Pos
	keys map[string]Pos
}

// Of returns the position of key's value, or of the mapping itself if key was not set.
func (p Positions) Of(key string) Pos {
	if q, ok := p.keys[key]; ok {
		return q
	}
	return p.Node
}

// Has reports whether key was set in the file.
func (p Positions) Has(key string) bool {
	_, ok := p.keys[key]
	return ok
}

// Forget drops keys, as when a command-line flag replaces what the file said.
func (p Positions) Forget(keys ...string) {
	for _, k := range keys {
		delete(p.keys, k)
	}
}

var positionsType = reflect.TypeOf(Positions{})

// decodeStruct decodes the mapping n into the struct that out points to, one key at a
// time by yaml tag. Unknown and duplicate keys are errors at the key; a value of the
// wrong shape is an error at the value. A field of type Positions receives the places.
func decodeStruct(n *yaml.Node, out any) error {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			return nil
		}
		return nodeErrorf(n, "expected a mapping (key: value lines), got %s", describe(n))
	}
	v := reflect.ValueOf(out).Elem()
	t := v.Type()
	fields := map[string]int{}
	posField := -1
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == positionsType {
			posField = i
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
		}
	}
	pos := Positions{Node: posOf(n), keys: map[string]Pos{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], resolveAlias(n.Content[i+1])
		idx, ok := fields[k.Value]
		if !ok {
			return nodeErrorf(k, "unknown key %q%s", k.Value, knownKeys(fields, k.Value))
		}
		if _, dup := pos.keys[k.Value]; dup {
			return nodeErrorf(k, "key %q is set twice", k.Value)
		}
		pos.keys[k.Value] = posOf(val)
		if err := decodeValue(val, v.Field(idx).Addr().Interface(), k.Value); err != nil {
			return err
		}
	}
	if posField >= 0 {
		v.Field(posField).Set(reflect.ValueOf(pos))
	}
	return nil
}

// decodeValue decodes one value and words a shape mismatch for the user.
func decodeValue(n *yaml.Node, out any, key string) error {
	err := n.Decode(out)
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return nodeErrorf(n, "%s: expected %s, got %s", key, want(reflect.TypeOf(out).Elem()), describe(n))
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// knownKeys suggests the closest known key, or lists them all.
func knownKeys(fields map[string]int, got string) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, k := range names {
		if d := editDistance(strings.ToLower(got), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(names, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func want(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a value"
}
