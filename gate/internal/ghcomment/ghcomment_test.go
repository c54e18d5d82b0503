package ghcomment

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perfgate/perfgate/gate/internal/ghfake"
)

func target(srv *httptest.Server, key string) Target {
	return Target{Owner: "acme", Repo: "shop", Number: 7, API: srv.URL, Token: "t0ken-abc", Key: key}
}

func TestUpsertCreatesThenUpdatesInPlace(t *testing.T) {
	fake := &ghfake.API{Token: "t0ken-abc"}
	fake.Others(250) // three pages of 100: the job's comment is on none of them yet
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()

	body := Marker("perf") + "\nfirst run"
	got, err := Upsert(ctx, srv.Client(), target(srv, "perf"), body)
	if err != nil || !got.Created || !strings.Contains(got.URL, "issuecomment-251") {
		t.Fatalf("first: %+v %v", got, err)
	}
	fake.Others(120) // the comment is now on page 3 of 4
	_, reqs := fake.Seen()
	before := len(reqs)
	got, err = Upsert(ctx, srv.Client(), target(srv, "perf"), Marker("perf")+"\nsecond run")
	if err != nil || got.Created {
		t.Fatalf("second: %+v %v", got, err)
	}
	_, reqs = fake.Seen()
	second := reqs[before:]
	// Another job's comment is its own.
	if got, err = Upsert(ctx, srv.Client(), target(srv, "perf (linux)"), Marker("perf (linux)")+"\nother job"); err != nil || !got.Created {
		t.Fatalf("other job: %+v %v", got, err)
	}
	comments, _ := fake.Seen()
	var ours []string
	for _, c := range comments {
		if strings.Contains(c.Body, "<!-- perfgate:comment") {
			ours = append(ours, c.Body)
		}
	}
	if len(ours) != 2 || ours[0] != Marker("perf")+"\nsecond run" || !strings.HasSuffix(ours[1], "other job") {
		t.Errorf("comments %q", ours)
	}
	// The second run read pages until it found its comment on the third, and no further.
	if len(second) != 4 || !strings.Contains(second[2], "page=3") || !strings.HasPrefix(second[3], "PATCH /repos/acme/shop/issues/comments/251") {
		t.Errorf("second run's requests %q", second)
	}
}

func TestUpsertOnAForkSaysWhy(t *testing.T) {
	fake := &ghfake.API{Token: "t0ken-abc", ReadOnly: true}
	fake.Others(3)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	_, err := Upsert(context.Background(), srv.Client(), target(srv, "perf"), Marker("perf")+"\nbody")
	var forbidden *Forbidden
	if !errors.As(err, &forbidden) || !strings.Contains(err.Error(), "fork") || !strings.Contains(err.Error(), "Resource not accessible by integration") {
		t.Fatalf("err = %v", err)
	}
	if comments, _ := fake.Seen(); len(comments) != 3 {
		t.Errorf("%d comments", len(comments))
	}
}

func TestUpsertErrorsNameNoToken(t *testing.T) {
	fake := &ghfake.API{Token: "another"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	_, err := Upsert(context.Background(), srv.Client(), target(srv, "perf"), Marker("perf")+"\nbody")
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "t0ken-abc") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Upsert(context.Background(), srv.Client(), target(srv, "perf"), "no marker"); err == nil {
		t.Error("a body without its marker was accepted")
	}
	if _, err := Upsert(context.Background(), srv.Client(), target(srv, "perf"), Marker("perf")+strings.Repeat("é", MaxBody)); err == nil {
		t.Error("a body over GitHub's limit was accepted")
	}
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"action":"synchronize","number":7,"pull_request":{"number":7}}`), 0o644)
	env := map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event, "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_JOB": "perf", "GITHUB_API_URL": "https://ghe.example/api/v3"}
	getenv := func(k string) string { return env[k] }
	got, err := FromEnv(getenv, "tok", "")
	if err != nil || got != (Target{Owner: "acme", Repo: "shop", Number: 7, API: "https://ghe.example/api/v3", Token: "tok", Key: "perf"}) {
		t.Fatalf("%+v %v", got, err)
	}
	if got, _ := FromEnv(getenv, "tok", "perf (arm64)"); got.Key != "perf (arm64)" {
		t.Errorf("key %q", got.Key)
	}
	env["GITHUB_EVENT_NAME"] = "push"
	if _, err := FromEnv(getenv, "tok", ""); !errors.Is(err, ErrNoPullRequest) {
		t.Errorf("push: %v", err)
	}
	env["GITHUB_EVENT_NAME"] = "pull_request"
	os.WriteFile(event, []byte(`{"ref":"refs/heads/main"}`), 0o644)
	if _, err := FromEnv(getenv, "tok", ""); err == nil || !strings.Contains(err.Error(), "names no pull request") {
		t.Errorf("no number: %v", err)
	}
}

func TestMarkerCannotEndEarly(t *testing.T) {
	if m := Marker("job --> <b>x</b>"); strings.Count(m, ">") != 1 || !strings.HasSuffix(m, " -->") {
		t.Errorf("marker %q", m)
	}
}
