package report

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadJSON: a result file read back is either refused with an error or a Result
// whose reports can be written, whatever its content.
// The seeds are small on purpose: mutating a 10 KB golden file makes the fuzzer crawl.
func FuzzReadJSON(f *testing.F) {
	f.Add(`{"version":"perfgate.result/v1"}`)
	f.Add(`{"version":"perfgate.result/v1","verdict":"fail","exit_code":1,"reasons":["x"],` +
		`"settings":{"model":"open","rate":10,"threshold_files":["t.yaml"]},"delivery":{"planned_requests":5,"sent_requests":4},` +
		`"checks":[{"rule":"p99 < 1s","scope":"all","file":"t.yaml","line":1,"kind":"latency","op":"<","limit":1,"measured":2,"samples":3},` +
		`{"rule":"requests > 1","scope":"/a","kind":"count","op":">","limit":1,"measured":null}],` +
		`"hold":{"all":{"name":"all","requests":3,"errors":1,"errors_by_kind":{"timeout":1},"latency_ms":{"p99":2}},` +
		`"endpoints":[{"name":"/a","setup":true}],"service_ms":{"p99":1},"schedule_lag_ms":{"p99":1}},` +
		`"windows":[{"seconds":10,"requests":3,"p99_ms":2},{"start_seconds":10,"seconds":10,"requests":3,"p99_ms":2}]}`)
	f.Add(`{"version":"perfgate.result/v2","verdict":"fail","exit_code":1,"reasons":[{"code":"no_samples","phase":"peak","message":"x"}],` +
		`"settings":{"main_phase":"peak","threshold_files":["t.yaml"]},"phases":[{"name":"peak","verdict":"fail","load":{"model":"open","rate":10},` +
		`"delivery":{"planned_requests":5},"hold":{"all":{"name":"all","requests":3,"latency_ms":{"p99":2}},"endpoints":[{"name":"/a"}]}},{"name":"b"}],` +
		`"checks":[{"rule":"p99 < 1s","phase":"peak","scope":"all","group":"peak","status":"fail","kind":"latency","op":"<","measured":2}],` +
		`"verdicts":[{"name":"peak","verdict":"fail","rules":1,"failed":1}],"windows":[{"phase":"peak","seconds":10,"requests":3,"histogram":"x"}]}`)
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
