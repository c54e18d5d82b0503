// Package ghcomment keeps one comment of perfgate's on a pull request up to date: it
// finds the comment that carries its hidden marker among every page of the pull
// request's comments and edits it, or writes a new one. It speaks GitHub's REST API
// through go-github, and reads where it runs from the GitHub Actions environment.
package ghcomment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/google/go-github/v84/github"
)

// MaxBody is the longest comment GitHub accepts, in characters.
const MaxBody = 65536

// Target is the pull request to comment on, and how to reach GitHub's API.
type Target struct {
	Owner, Repo string
	Number      int
	// API is the REST API's base URL (GITHUB_API_URL: https://api.github.com, or a
	// GitHub Enterprise Server's).
	API   string
	Token string
	// Key tells this job's comment from others' on the same pull request.
	Key string
}

// ErrNoPullRequest is why a run outside a pull request's workflow leaves no comment.
var ErrNoPullRequest = errors.New("not a pull request's workflow run")

// FromEnv is the pull request of the GitHub Actions run that getenv describes: its
// event (pull_request or pull_request_target) names it in GITHUB_EVENT_PATH. key is the
// job's own key ("" for GITHUB_JOB).
func FromEnv(getenv func(string) string, token, key string) (Target, error) {
	switch getenv("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
	default:
		return Target{}, ErrNoPullRequest
	}
	owner, repo, ok := strings.Cut(getenv("GITHUB_REPOSITORY"), "/")
	if !ok || owner == "" || repo == "" {
		return Target{}, fmt.Errorf("GITHUB_REPOSITORY is not owner/name")
	}
	data, err := os.ReadFile(getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		return Target{}, fmt.Errorf("cannot read the event (GITHUB_EVENT_PATH): %v", err)
	}
	var event struct {
		PullRequest struct {
			Number int `json:"number"`
		} `json:"pull_request"`
		Number int `json:"number"`
	}
	if err := json.Unmarshal(data, &event); err != nil {
		return Target{}, fmt.Errorf("the event (GITHUB_EVENT_PATH) is not JSON: %v", err)
	}
	n := event.PullRequest.Number
	if n == 0 {
		n = event.Number
	}
	if n <= 0 {
		return Target{}, fmt.Errorf("the event names no pull request")
	}
	api := getenv("GITHUB_API_URL")
	if api == "" {
		api = "https://api.github.com"
	}
	if key == "" {
		key = getenv("GITHUB_JOB")
	}
	return Target{Owner: owner, Repo: repo, Number: n, API: api, Token: token, Key: key}, nil
}

// Marker is the hidden line that marks the comment of the job keyed key.
func Marker(key string) string {
	// Quoted, and without a '>', a key cannot end the HTML comment early.
	return "<!-- perfgate:comment " + strings.ReplaceAll(strconv.Quote(key), ">", `\u003e`) + " -->"
}

// Forbidden is the error of a token that may not comment: a pull request from a fork,
// whose workflow's token can only read.
type Forbidden struct{ Message string }

func (f *Forbidden) Error() string {
	return "GitHub refused the comment (403: " + f.Message + "); a pull request from a fork gets a read-only token, so its workflow cannot comment"
}

// Outcome says what Upsert did: created or updated, and the comment's address.
type Outcome struct {
	Created bool
	URL     string
}

// Upsert writes body (which must hold Marker(t.Key)) as the job's comment: it edits
// the comment with the marker if one is among the pull request's comments, or
// creates one. client is the HTTP client to use (nil: http.DefaultClient).
func Upsert(ctx context.Context, client *http.Client, t Target, body string) (Outcome, error) {
	marker := Marker(t.Key)
	if !strings.Contains(body, marker) {
		return Outcome{}, errors.New("the comment lacks its marker")
	}
	if n := len([]rune(body)); n > MaxBody {
		return Outcome{}, fmt.Errorf("the comment is %d characters, over GitHub's %d", n, MaxBody)
	}
	gh := github.NewClient(client).WithAuthToken(t.Token)
	base, err := url.Parse(strings.TrimSuffix(t.API, "/") + "/")
	if err != nil || base.Scheme == "" || base.Host == "" {
		return Outcome{}, fmt.Errorf("GITHUB_API_URL %q is not a URL", t.API)
	}
	gh.BaseURL = base

	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var found *github.IssueComment
	for found == nil {
		page, resp, err := gh.Issues.ListComments(ctx, t.Owner, t.Repo, t.Number, opts)
		if err != nil {
			return Outcome{}, describe("list the pull request's comments", err)
		}
		for _, c := range page {
			if strings.Contains(c.GetBody(), marker) {
				found = c
				break
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if found != nil {
		c, _, err := gh.Issues.EditComment(ctx, t.Owner, t.Repo, found.GetID(), &github.IssueComment{Body: github.Ptr(body)})
		if err != nil {
			return Outcome{}, describe("update the comment", err)
		}
		return Outcome{URL: c.GetHTMLURL()}, nil
	}
	c, _, err := gh.Issues.CreateComment(ctx, t.Owner, t.Repo, t.Number, &github.IssueComment{Body: github.Ptr(body)})
	if err != nil {
		return Outcome{}, describe("comment", err)
	}
	return Outcome{Created: true, URL: c.GetHTMLURL()}, nil
}

// describe turns an API error into one that says what failed, without the request's
// headers (its token) or the response's body beyond GitHub's message.
func describe(what string, err error) error {
	var e *github.ErrorResponse
	if errors.As(err, &e) && e.Response != nil {
		if e.Response.StatusCode == http.StatusForbidden {
			return &Forbidden{Message: e.Message}
		}
		return fmt.Errorf("cannot %s: GitHub answered %d: %s", what, e.Response.StatusCode, e.Message)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot %s: %v", what, ue.Err)
	}
	return fmt.Errorf("cannot %s: %v", what, err)
}
