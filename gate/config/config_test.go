package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) Env {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

const seedConfig = `target: ${TARGET_URL}
load:
  users: 200
  spawn_rate: 10
  duration: 5m
  think: 1s..3s
setup:
  - name: login
    method: POST
    path: /auth/token
    json: {username: testuser, password: "${PERFGATE_PASSWORD}"}
    extract: {token: $.access_token}
tasks:
  - name: /api/products
    weight: 3
    method: GET
    path: /api/products
    headers: {Authorization: "Bearer {{token}}"}
  - name: /api/products/:id
    weight: 1
    method: GET
    path: /api/products/12345
    headers: {Authorization: "Bearer {{token}}"}
thresholds: [thresholds/release.yaml]
`

func TestParseConfigSeed(t *testing.T) {
	c, err := ParseConfig("perfgate.yaml", []byte(seedConfig), env(map[string]string{
		"TARGET_URL": "http://127.0.0.1:9", "PERFGATE_PASSWORD": "s3cr:et #x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Target != "http://127.0.0.1:9" || c.Load.Users != 200 || c.Load.SpawnRate != 10 {
		t.Errorf("target/load = %q %+v", c.Target, c.Load)
	}
	if time.Duration(c.Load.Duration) != 5*time.Minute || c.Load.Think != (Think{time.Second, 3 * time.Second}) {
		t.Errorf("duration/think = %v %v", c.Load.Duration, c.Load.Think)
	}
	if len(c.Setup) != 1 || len(c.Tasks) != 2 || *c.Tasks[0].Weight != 3 {
		t.Fatalf("setup/tasks = %+v %+v", c.Setup, c.Tasks)
	}
	body := c.Setup[0].JSON.(map[string]any)
	if body["password"] != "s3cr:et #x" {
		t.Errorf("password = %#v: an expanded value must stay one string", body["password"])
	}
	if c.Setup[0].Extract["token"] != "$.access_token" {
		t.Errorf("extract = %v", c.Setup[0].Extract)
	}
	if got := c.Tasks[1].Pos.Of("path"); got.Line != 22 || got.Col != 11 {
		t.Errorf("position of tasks[1].path = %+v, want 22:11", got)
	}
	if len(c.Secrets) != 1 || c.Secrets[0] != "s3cr:et #x" {
		t.Errorf("secrets = %q", c.Secrets)
	}
}

func TestEnvExpansion(t *testing.T) {
	e := env(map[string]string{"USERS": "50", "EMPTY": "", "PW": "123"})
	cases := []struct {
		doc, want string
		users     int
	}{
		{doc: "target: ${HOST:-http://localhost:1}\nload:\n  users: ${USERS}", want: "http://localhost:1", users: 50},
		{doc: "target: http://${EMPTY:-h}:1\nload:\n  users: ${MISSING:-7}", want: "http://h:1", users: 7},
		{doc: "target: $${NOT_A_VAR} costs $5", want: "${NOT_A_VAR} costs $5"},
		{doc: `target: "${PW}"`, want: "123"},
	}
	for _, tc := range cases {
		c, err := ParseConfig("f.yaml", []byte(tc.doc), e)
		if err != nil {
			t.Errorf("%q: %v", tc.doc, err)
			continue
		}
		if c.Target != tc.want || c.Load.Users != tc.users {
			t.Errorf("%q: target %q users %d, want %q %d", tc.doc, c.Target, c.Load.Users, tc.want, tc.users)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"unknown key", "target: x\nlaod: {}\n", "f.yaml:2:1: unknown key \"laod\" (did you mean \"load\"?)"},
		{"unknown nested key", "load:\n  users: 3\n  rampup: 2\n", "f.yaml:3:3: unknown key \"rampup\" (did you mean \"ramp\"?)"},
		{"duplicate key", "target: a\ntarget: b\n", "f.yaml:2:1: "},
		{"bad duration", "load:\n  duration: 5 minutes\n", "f.yaml:2:13: invalid duration \"5 minutes\""},
		{"bare number duration", "load:\n  duration: 30\n", "f.yaml:2:13: duration \"30\" needs a unit"},
		{"negative duration", "load: {duration: -1s}", "f.yaml:1:18: duration \"-1s\" is negative"},
		{"think order", "load:\n  think: 3s..1s\n", "f.yaml:2:10: think range \"3s..1s\" ends below its start"},
		{"users not a number", "load:\n  users: many\n", "f.yaml:2:10: users: expected a whole number, got \"many\""},
		{"tasks not a list", "tasks: {a: 1}\n", "f.yaml:1:8: tasks: expected a list, got a mapping"},
		{"missing env", "target: ${NOPE}\n", "f.yaml:1:9: environment variable NOPE is not set"},
		{"unclosed env", "target: ${NOPE\n", "f.yaml:1:9: unclosed ${"},
		{"malformed yaml", "target: [a\n", "f.yaml:"},
		{"empty", "", "f.yaml: the file is empty"},
		{"status", "tasks:\n  - path: /\n    expect: {status: [200, 9000]}\n", "f.yaml:3:28: status: expected an HTTP status code"},
		{"top-level list", "- a\n", "f.yaml:1:1: expected a mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("f.yaml", []byte(tc.doc), env(nil))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "f.yaml" {
				t.Errorf("error %T %v does not name the file", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDuplicateKeyIsPositioned(t *testing.T) {
	_, err := ParseConfig("f.yaml", []byte("target: a\nload: {users: 1}\ntarget: b\n"), env(nil))
	var pe *Error
	if !errors.As(err, &pe) || pe.Pos.Line == 0 {
		t.Fatalf("err = %v, want a positioned error", err)
	}
}

func TestParseThink(t *testing.T) {
	cases := []struct {
		in      string
		want    Think
		wantErr bool
	}{
		{"1s..3s", Think{time.Second, 3 * time.Second}, false},
		{"500ms", Think{500 * time.Millisecond, 500 * time.Millisecond}, false},
		{"0", Think{}, false},
		{"0..2s", Think{0, 2 * time.Second}, false},
		{"3s..1s", Think{}, true},
		{"1..3", Think{}, true},
		{"1s..", Think{}, true},
		{"", Think{}, true},
	}
	for _, tc := range cases {
		got, err := ParseThink(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseThink(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{"5m": 5 * time.Minute, "1m30s": 90 * time.Second, "250ms": 250 * time.Millisecond, "0": 0, " 2s ": 2 * time.Second}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "1.5", "-2s", "5 m", "abc", "1d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q): no error", in)
		}
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]float64{"150/s": 150, "9000/m": 150, "0.5/s": 0.5, "7200/h": 2, " 10 / s ": 10}
	for in, want := range good {
		if got, err := ParseRate(in, false); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{"150": "needs a unit", "0/s": "must be above zero", "-5/s": "must be above zero",
		"10/d": "invalid rate unit", "fast/s": "invalid rate", "NaN/s": "invalid rate"}
	for in, want := range bad {
		if _, err := ParseRate(in, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRate(%q) error = %v, want %q", in, err, want)
		}
	}
	if v, err := ParseRate("0/s", true); err != nil || v != 0 {
		t.Errorf("a ramp may start at 0/s: %v %v", v, err)
	}
}
