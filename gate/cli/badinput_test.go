package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Bad input is caught by validate (and by run, before any load), with an error that
// names the file and says what is wrong, never a panic, a hang or memory without end.
func TestValidateCatchesBadInput(t *testing.T) {
	const head = "target: http://127.0.0.1:9\n"
	const tasks = "tasks: [{path: /}]\nthresholds: [t.yaml]\n"
	cases := []struct {
		name, config, rules string
		args                []string
		want                string
	}{
		{"a weight past any use", head + "tasks: [{path: /, weight: 9223372036854775807}, {path: /b, weight: 9223372036854775807}]\nthresholds: [t.yaml]\n", "", nil,
			"c.yaml:2:27: tasks[0]: weight must be between 0 and 1000000"},
		{"a weight that overflows", head + "tasks: [{path: /, weight: 99999999999999999999}]\nthresholds: [t.yaml]\n", "", nil, "c.yaml:2:27: weight: expected a whole number"},
		{"a trillion users", head + "load: {users: 1000000000000}\n" + tasks, "", nil, "c.yaml:2:15: load.users must be between 1 and 1000000"},
		{"a trillion in flight", head + "load: {rate: 10/s, max_in_flight: 1000000000000}\n" + tasks, "", nil, "load.max_in_flight must be between 1 and 1000000"},
		{"a hold of years", head + "load: {duration: 100000h}\n" + tasks, "", nil, "load.duration of 100000h0m0s is longer than 24h0m0s"},
		{"a ramp of years", head + "load: {users: 10, spawn_rate: 0.0000001}\n" + tasks, "", nil, "the ramp would last"},
		{"a timeout of years", head + "defaults: {timeout: 100000h}\n" + tasks, "", nil, "defaults.timeout of 100000h0m0s is longer than 1h0m0s"},
		{"no request due in the hold", head + "load: {rate: 0.001/s, duration: 1s}\n" + tasks, "", nil, "no request is due in a hold of 1s"},
		{"a rule on a setup step", head + "setup: [{name: login, path: /l}]\n" + tasks, "endpoints: {login: [p99 < 1s]}\n", nil, `t.yaml:1:13: "login" is a setup step`},
		{"windows by the million", head + tasks, "", []string{"--progress", "100ms", "--duration", "24h"}, "would close 864100 time windows"},
		{"windows too short", head + tasks, "", []string{"--progress", "1ns"}, "--progress 1ns is shorter than 100ms"},
		{"two reports at one path", head + tasks, "", []string{"--junit", "r", "--json", "r"}, "--junit and --json name the same file"},
		{"a YAML syntax error", "target: [unclosed\n" + tasks, "", nil, "c.yaml:2:1: invalid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := tc.rules
			if rules == "" {
				rules = "all: [p99 < 1s]\n"
			}
			dir := writeFiles(t, map[string]string{"c.yaml": tc.config, "t.yaml": rules})
			for _, cmd := range []string{"validate", "run"} {
				args := append([]string{cmd, "-c", filepath.Join(dir, "c.yaml")}, tc.args...)
				for i, a := range args {
					if a == "r" {
						args[i] = filepath.Join(dir, "r")
					}
				}
				code, out, errs := invokeNoChdir(t, dir, nil, args...)
				if code != ExitUsage || !strings.Contains(errs, tc.want) || out != "" {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 saying %q", cmd, code, out, errs, tc.want)
				}
			}
		})
	}
}

// A named pipe, a device or a directory given as a config, thresholds or a baseline is
// an error at once: never a wait for a writer, nor a read without end.
func TestSpecialFilesAreRefused(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"c.yaml": "target: http://127.0.0.1:9\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
		"t.yaml": "all: [p99 < 1s]\n",
		"b.yaml": "baseline: pipe\nall: [p99 < baseline + 10%]\n",
	})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o600); err != nil {
		t.Skipf("no named pipes: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "-c", filepath.Join(dir, "pipe")}, "is a named pipe"},
		{[]string{"validate", "-c", "/dev/zero"}, "is a device"},
		{[]string{"validate", "-c", dir}, "is a directory"},
		{[]string{"validate", "-c", filepath.Join(dir, "c.yaml"), "--thresholds", filepath.Join(dir, "pipe")}, "is a named pipe"},
		{[]string{"validate", "-c", filepath.Join(dir, "c.yaml"), "--thresholds", filepath.Join(dir, "b.yaml")}, "baseline file " + filepath.Join(dir, "pipe") + " is a named pipe"},
		{[]string{"baseline", "/dev/zero"}, "result file /dev/zero is a device"},
	} {
		code, _, errs := invokeNoChdir(t, dir, nil, tc.args...)
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, code, errs, tc.want)
		}
	}
}

// A baseline edited by hand into figures no run records is refused, naming what is wrong.
func TestHandEditedBaselineIsRefused(t *testing.T) {
	good := `{"version":"perfgate.baseline/v1","fingerprint":{"model":"closed","users":1,"endpoints":["/"]},` +
		`"all":{"name":"all","requests":10,"error_rate":0,"throughput":5,"mean_ms":1,"max_ms":2},"endpoints":[{"name":"/","requests":10,"error_rate":0,"throughput":5,"mean_ms":1,"max_ms":2}]}`
	for _, tc := range []struct{ from, to, want string }{
		{`"error_rate":0,"throughput":5,"mean_ms":1,"max_ms":2}]`, `"error_rate":1.5,"throughput":5,"mean_ms":1,"max_ms":2}]`, "error_rate 1.5 is not between 0 and 1"},
		{`"all":{"name":"all","requests":10`, `"all":{"name":"all","requests":-10`, "requests -10 is negative"},
		{`"throughput":5,"mean_ms":1,"max_ms":2}]`, `"throughput":-5,"mean_ms":1,"max_ms":2}]`, "throughput -5 is not a rate"},
		{`"max_ms":2}]`, `"max_ms":2,"histogram":"HISTFAAAAbogus"}]`, "the histogram is damaged"},
	} {
		dir := writeFiles(t, map[string]string{
			"c.yaml":    "target: http://127.0.0.1:9\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
			"t.yaml":    "baseline: base.json\nall: [throughput > baseline - 10%]\n",
			"base.json": strings.Replace(good, tc.from, tc.to, 1),
		})
		code, _, errs := invokeNoChdir(t, dir, nil, "validate", "-c", filepath.Join(dir, "c.yaml"))
		if code != ExitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q", tc.want, code, errs)
		}
	}
}

// An error message shows the line at fault, with a caret under the column, unless the
// line may hold a credential: then the position alone is given.
func TestErrorLineShownButNeverASecret(t *testing.T) {
	for _, tc := range []struct{ name, config, want, never string }{
		{"plain", "target: http://127.0.0.1:9\ntasks: [{path: /, weight: -1}]\nthresholds: [t.yaml]\n",
			"  2 | tasks: [{path: /, weight: -1}]\n    |                           ^\n", ""},
		{"a header", "target: http://127.0.0.1:9\ntasks: [{path: /, headers: {Authorization: Bearer tok-Sup3rSecret}, weight: -1}]\nthresholds: [t.yaml]\n",
			"c.yaml:2:", "Sup3rSecret"},
		{"a URL", "target: http://u:pw-Sup3rSecret@127.0.0.1:9\nload: {users: -1}\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
			"c.yaml:2:", "Sup3rSecret"},
		{"a URL at fault", "target: [http://u:pw-Sup3rSecret@127.0.0.1:9\ntasks: [{path: /}]\nthresholds: [t.yaml]\n",
			"c.yaml:", "Sup3rSecret"},
	} {
		dir := writeFiles(t, map[string]string{"c.yaml": tc.config, "t.yaml": "all: [p99 < 1s]\n"})
		code, _, errs := invokeNoChdir(t, dir, nil, "validate", "-c", filepath.Join(dir, "c.yaml"))
		if code != ExitUsage || !strings.Contains(errs, tc.want) || (tc.never != "" && strings.Contains(errs, tc.never)) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tc.name, code, errs, tc.want)
		}
	}
}
