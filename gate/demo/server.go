// Package demo is the built-in sample API: the three endpoints of the article's Locust
// example (POST /auth/token, GET /api/products, GET /api/products/{id}) with settable
// latency and error rate, so that `perfgate demo` shows a whole gate working, and tests
// have a real HTTP server to hit. It also carries the demo's config.
package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	_ "embed" // the demo config
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ConfigFile is the demo's config, as shipped in the repository at ConfigName.
//
//go:embed perfgate.yaml
var ConfigFile []byte

// ConfigName is where ConfigFile lives in the repository, used in messages about it.
const ConfigName = "gate/demo/perfgate.yaml"

// Credentials the sample API accepts.
const (
	Username = "testuser"
	Password = "testpass"
)

// Options shape the sample API's behaviour.
type Options struct {
	// Latency is added to every response; Jitter adds up to that much more, uniformly.
	Latency time.Duration
	Jitter  time.Duration
	// ErrorRate is the fraction of /api/ requests answered with 500.
	ErrorRate float64
}

// Healthy is the demo's normal behaviour; Regressed is a release candidate gone slow and
// flaky.
var (
	Healthy   = Options{Latency: 5 * time.Millisecond, Jitter: 10 * time.Millisecond}
	Regressed = Options{Latency: 320 * time.Millisecond, Jitter: 200 * time.Millisecond, ErrorRate: 0.04}
)

// Server is the sample API.
type Server struct {
	opts     Options
	key      []byte
	requests atomic.Int64
	srv      *http.Server
	ln       net.Listener
}

// New returns a sample API with the given behaviour.
func New(opts Options) *Server {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	return &Server{opts: opts, key: key}
}

// Validate checks options given on the command line.
func (o Options) Validate() error {
	if o.Latency < 0 || o.Jitter < 0 {
		return errors.New("latency and jitter must not be negative")
	}
	if o.ErrorRate < 0 || o.ErrorRate > 1 {
		return fmt.Errorf("error rate %v is not between 0 and 1", o.ErrorRate)
	}
	return nil
}

// Handler serves the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("POST /auth/token", s.token)
	mux.HandleFunc("GET /api/products", s.auth(s.products))
	mux.HandleFunc("GET /api/products/{id}", s.auth(s.product))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	})
}

// Requests counts the requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Start listens on addr (127.0.0.1:0 picks a free port) and serves in the background.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the base URL of a started server.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Shutdown stops a started server, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// Serve runs until ctx is cancelled.
func (s *Server) Serve(ctx context.Context, addr string) error {
	if err := s.Start(addr); err != nil {
		return err
	}
	<-ctx.Done()
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(shutCtx)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service":   "perfgate sample API",
		"endpoints": []string{"POST /auth/token", "GET /api/products", "GET /api/products/{id}"},
	})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !s.delay(r) {
		return
	}
	var creds struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&creds); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected a JSON body with username and password"})
		return
	}
	if creds.Username != Username || !hmac.Equal([]byte(creds.Password), []byte(Password)) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid credentials"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": s.newToken(), "token_type": "bearer", "expires_in": 3600})
}

// newToken returns nonce.signature; checking it needs no server-side state.
func (s *Server) newToken() string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	n := hex.EncodeToString(nonce)
	return n + "." + s.sign(n)
}

func (s *Server) sign(nonce string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) valid(token string) bool {
	nonce, sig, ok := strings.Cut(token, ".")
	return ok && hmac.Equal([]byte(sig), []byte(s.sign(nonce)))
}

func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.valid(tok) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or invalid bearer token"})
			return
		}
		if !s.delay(r) {
			return
		}
		if s.opts.ErrorRate > 0 && mrand.Float64() < s.opts.ErrorRate {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "injected failure"})
			return
		}
		next(w, r)
	}
}

// delay sleeps the configured latency; false if the client went away.
func (s *Server) delay(r *http.Request) bool {
	d := s.opts.Latency
	if s.opts.Jitter > 0 {
		d += time.Duration(mrand.Int64N(int64(s.opts.Jitter) + 1))
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

type product struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
	Stock int     `json:"stock"`
}

func makeProduct(id int) product {
	return product{ID: id, Name: fmt.Sprintf("Product %d", id), Price: float64(id%9000+100) / 10, Stock: id % 97}
}

func (s *Server) products(w http.ResponseWriter, r *http.Request) {
	list := make([]product, 20)
	for i := range list {
		list[i] = makeProduct(12340 + i)
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": list, "total": len(list)})
}

func (s *Server) product(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such product"})
		return
	}
	writeJSON(w, http.StatusOK, makeProduct(id))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do about it
}
