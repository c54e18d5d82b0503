// Package ghfake is a local stand-in for GitHub's REST API, for tests: the issue comment
// endpoints of one pull request (acme/shop#7), paged as GitHub pages them.
package ghfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// API is a local stand-in for the REST API's issue comment endpoints: it pages
// its comments as GitHub does (per_page, page, a Link header), checks the token, and
// answers 403 to writes when readOnly, as it does to a fork's pull request.
type API struct {
	// Token is the only one it accepts; ReadOnly refuses every write (403).
	Token    string
	ReadOnly bool
	// Comments are pull request 7's of repository acme/shop; Requests each request's
	// method and path, in order.
	Comments []Comment
	Requests []string
	mu       sync.Mutex
	next     int64
}

// Comment is one comment of the pull request.
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	URL  string `json:"html_url"`
}

// ServeHTTP answers one request.
func (f *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Requests = append(f.Requests, r.Method+" "+r.URL.RequestURI())
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
		return
	}
	deny := func() {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/repos/acme/shop/issues/7/comments":
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if per <= 0 {
			per = 30
		}
		if page <= 0 {
			page = 1
		}
		from := min((page-1)*per, len(f.Comments))
		to := min(from+per, len(f.Comments))
		if to < len(f.Comments) {
			next := *r.URL
			q := next.Query()
			q.Set("page", strconv.Itoa(page+1))
			next.RawQuery = q.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
		}
		_ = json.NewEncoder(w).Encode(f.Comments[from:to])
	case r.Method == "POST" && r.URL.Path == "/repos/acme/shop/issues/7/comments":
		if f.ReadOnly {
			deny()
			return
		}
		var c Comment
		_ = json.NewDecoder(r.Body).Decode(&c)
		f.next++
		c.ID, c.URL = f.next, fmt.Sprintf("https://github.example/acme/shop/pull/7#issuecomment-%d", f.next)
		f.Comments = append(f.Comments, c)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(c)
	case r.Method == "PATCH" && strings.HasPrefix(r.URL.Path, "/repos/acme/shop/issues/comments/"):
		if f.ReadOnly {
			deny()
			return
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/repos/acme/shop/issues/comments/"), 10, 64)
		for i := range f.Comments {
			if f.Comments[i].ID == id {
				var c Comment
				_ = json.NewDecoder(r.Body).Decode(&c)
				f.Comments[i].Body = c.Body
				_ = json.NewEncoder(w).Encode(f.Comments[i])
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

// Others fills the pull request with n comments of other people and tools.
func (f *API) Others(n int) {
	for range n {
		f.next++
		f.Comments = append(f.Comments, Comment{ID: f.next, Body: fmt.Sprintf("looks good %d", f.next)})
	}
}

// Seen returns the pull request's comments and the requests so far.
func (f *API) Seen() ([]Comment, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Comment(nil), f.Comments...), append([]string(nil), f.Requests...)
}

// SetReadOnly makes writes be refused (403), or accepted again.
func (f *API) SetReadOnly(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ReadOnly = v
}
