package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadJSON: a result file read back is either refused with an error or a Result
// whose reports can be written, whatever its content.
func FuzzReadJSON(f *testing.F) {
	for _, name := range []string{"fail.result.json", "open.result.json"} {
		if data, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(string(data))
		}
	}
	f.Add(`{"version":"perfgate.result/v1"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		r, err := ReadJSON(strings.NewReader(doc))
		if err != nil {
			return
		}
		var b bytes.Buffer
		_ = WriteConsole(&b, r)
		_ = WriteMarkdown(&b, r)
		_ = WriteJUnit(&b, r)
	})
}
