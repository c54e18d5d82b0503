// Package runnerfile reads GitHub Actions environment files (GITHUB_OUTPUT and the like)
// in tests, exactly as the runner does: name=value lines and name<<DELIMITER blocks.
package runnerfile

import (
	"strings"
	"testing"
)

// Parse returns the name/value pairs of a runner file; a malformed one fails t.
func Parse(t testing.TB, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("block %s is not closed by %q", name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(lines[i], "=")
		if !ok {
			t.Fatalf("line %q is neither name=value nor name<<DELIMITER", lines[i])
		}
		out[name] = val
	}
	return out
}
