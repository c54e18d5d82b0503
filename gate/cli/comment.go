package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/perfgate/perfgate/gate/internal/ghcomment"
	"github.com/perfgate/perfgate/gate/report"
)

// commentTimeout bounds the pull request comment's requests to GitHub, all together.
const commentTimeout = 30 * time.Second

// comment writes the run's pull request comment (--pr-comment), one per job, updated
// in place: in a pull request's workflow, with a token (the action's github-token
// input, or GITHUB_TOKEN). It never changes the exit code: a comment that cannot be
// written is said on stderr, and a fork's read-only token is skipped, saying why.
func (c *Command) comment(ctx context.Context, f *runFlags, res *report.Result, out io.Writer) {
	if !f.prComment {
		return
	}
	token := c.githubToken
	if token == "" {
		token = c.getenv("GITHUB_TOKEN")
	}
	if token == "" {
		c.errorf("pull request comment: no token: give the action's github-token input, or set GITHUB_TOKEN (with pull-requests: write)")
		return
	}
	t, err := ghcomment.FromEnv(c.getenv, token, f.prCommentKey)
	if errors.Is(err, ghcomment.ErrNoPullRequest) {
		c.say(out, "pull request comment: none, this is not a pull request's workflow run\n")
		return
	}
	if err != nil {
		c.errorf("pull request comment: %v", err)
		return
	}
	link := runLink(c.getenv("GITHUB_SERVER_URL"), c.getenv("GITHUB_REPOSITORY"), c.getenv("GITHUB_RUN_ID"))
	ctx, cancel := context.WithTimeout(ctx, commentTimeout)
	defer cancel()
	client := c.httpClient
	if client == nil {
		client = http.DefaultClient
	}
	body := report.Comment(res, ghcomment.Marker(t.Key), link, ghcomment.MaxBody)
	done, err := ghcomment.Upsert(ctx, client, t, body)
	var forbidden *ghcomment.Forbidden
	switch {
	case errors.As(err, &forbidden):
		c.say(out, "pull request comment skipped: %v\n", err)
	case err != nil:
		c.errorf("pull request comment: %v", err)
	case done.Created:
		c.say(out, "commented on pull request #%d: %s\n", t.Number, done.URL)
	default:
		c.say(out, "updated the comment on pull request #%d: %s\n", t.Number, done.URL)
	}
}

// runLink is the run's page, from the environment: only a plain http(s) URL of an
// owner/name repository and a numeric run id, nothing else the environment holds ("":
// none).
func runLink(server, repo, id string) string {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !plainRepo.MatchString(repo) || !digits.MatchString(id) {
		return ""
	}
	return strings.TrimSuffix(u.String(), "/") + "/" + repo + "/actions/runs/" + id
}

var (
	plainRepo = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	digits    = regexp.MustCompile(`^[0-9]+$`)
)
