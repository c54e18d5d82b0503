package jsonpath

import (
	"strings"
	"testing"
)

const doc = `{"access_token":"abc.def","n":12.5,"ok":true,"nil":null,
"items":[{"id":7},{"id":8,"tags":["x","y"]}],"odd key":{"a b":"v"}}`

func TestLookup(t *testing.T) {
	cases := map[string]string{
		"$.access_token":        "abc.def",
		"$.n":                   "12.5",
		"$.ok":                  "true",
		"$.items[1].id":         "8",
		"$.items[1].tags[0]":    "x",
		"$['odd key'][\"a b\"]": "v",
		"$.items[0]":            `{"id":7}`,
	}
	for path, want := range cases {
		p, err := Compile(path)
		if err != nil {
			t.Errorf("Compile(%q): %v", path, err)
			continue
		}
		got, err := p.Lookup([]byte(doc))
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	cases := map[string]string{
		"$.missing":         "not found",
		"$.nil":             "is null",
		"$.items[5]":        "has only 2 items",
		"$.items.id":        "is a list, not an object",
		"$.n.x":             "not found",
		"$.access_token[0]": "not found",
	}
	for path, want := range cases {
		p, err := Compile(path)
		if err != nil {
			t.Fatalf("Compile(%q): %v", path, err)
		}
		if _, err := p.Lookup([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", path, err, want)
		}
	}
	p, _ := Compile("$.access_token")
	_, err := p.Lookup([]byte("<html>secret-page</html>"))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("non-JSON body: error %v must exist and not quote the body", err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, s := range []string{"access_token", "$", "$.", "$..a", "$[", "$[x]", "$[-1]", "$a"} {
		if _, err := Compile(s); err == nil {
			t.Errorf("Compile(%q): no error", s)
		}
	}
}

func FuzzLookup(f *testing.F) {
	f.Add("$.items[1].tags[0]", doc)
	f.Add("$['a']", `{"a":1}`)
	f.Fuzz(func(t *testing.T, path, body string) {
		p, err := Compile(path)
		if err != nil {
			return
		}
		_, _ = p.Lookup([]byte(body))
	})
}
