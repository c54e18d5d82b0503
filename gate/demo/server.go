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
	"sync"
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
	// Capacity is how many requests a second the API serves well (0: no limit). Over
	// it, the API degrades gracefully: it sheds half the excess share of /api/ requests
	// with 503 and slows the rest in proportion, and is well again once the load drops.
	Capacity float64
	// FallOver makes the API fall over instead, the first time it is over capacity:
	// from then on every /api/ request is slow, and one in five fails.
	FallOver bool
	// Leak adds this much latency for every second the API has been serving, as a
	// resource leak would: latency creeps up over a long hold.
	Leak time.Duration
	// Seed, when not 0, seeds the API's random choices (jitter, errors, shedding), so
	// that a series of runs can be repeated.
	Seed uint64
}

// Overloaded is the sample API with a capacity between the demo's peak and twice it;
// Stressed the one whose capacity `perfgate demo --capacity` searches for.
var (
	Overloaded = Options{Latency: Healthy.Latency, Jitter: Healthy.Jitter, Capacity: 150}
	Stressed   = Options{Latency: Healthy.Latency, Jitter: Healthy.Jitter, Capacity: 400}
)

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

	started time.Time
	// load is the API's request rate: requests in the current second and the last
	// whole one. broken is set once a FallOver API has fallen over.
	mu       sync.Mutex
	second   int64
	thisSec  int
	lastRate float64
	broken   atomic.Bool

	// rng is the seeded source of random choices (Options.Seed), nil for the shared
	// one; rngMu guards it.
	rngMu sync.Mutex
	rng   *mrand.Rand
}

func (s *Server) float64() float64 {
	if s.rng == nil {
		return mrand.Float64()
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

func (s *Server) int64n(n int64) int64 {
	if s.rng == nil {
		return mrand.Int64N(n)
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Int64N(n)
}

// New returns a sample API with the given behaviour.
func New(opts Options) *Server {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	s := &Server{opts: opts, key: key, started: time.Now()}
	if opts.Seed != 0 {
		s.rng = mrand.New(mrand.NewPCG(opts.Seed, opts.Seed))
	}
	return s
}

// String describes the behaviour in a few words.
func (o Options) String() string {
	s := fmt.Sprintf("latency %s + up to %s, error rate %g%%", o.Latency, o.Jitter, o.ErrorRate*100)
	if o.Capacity > 0 {
		s += fmt.Sprintf(", capacity %g req/s", o.Capacity)
		if o.FallOver {
			s += " (falls over above it)"
		}
	}
	if o.Leak > 0 {
		s += fmt.Sprintf(", leaking %s a second", o.Leak)
	}
	return s
}

// Validate checks options given on the command line.
func (o Options) Validate() error {
	if o.Latency < 0 || o.Jitter < 0 {
		return errors.New("latency and jitter must not be negative")
	}
	if o.ErrorRate < 0 || o.ErrorRate > 1 {
		return fmt.Errorf("error rate %v is not between 0 and 1", o.ErrorRate)
	}
	if o.Capacity < 0 || o.Leak < 0 {
		return errors.New("capacity and leak must not be negative")
	}
	if o.FallOver && o.Capacity == 0 {
		return errors.New("falling over needs a capacity to go over")
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
		extra, shed := s.pressure()
		if shed {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "over capacity, try again"})
			return
		}
		if !s.delayExtra(r, extra) {
			return
		}
		if s.opts.ErrorRate > 0 && s.float64() < s.opts.ErrorRate {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "injected failure"})
			return
		}
		next(w, r)
	}
}

// pressure counts an /api/ request against the API's capacity, and says how much slower
// the API is now (overload, a leak, or having fallen over) and whether it sheds this
// request.
func (s *Server) pressure() (extra time.Duration, shed bool) {
	o := s.opts
	if o.Leak > 0 {
		extra += time.Duration(time.Since(s.started).Seconds() * float64(o.Leak))
	}
	if o.Capacity == 0 {
		return extra, false
	}
	now := time.Now().Unix()
	s.mu.Lock()
	if now != s.second {
		if now == s.second+1 {
			s.lastRate = float64(s.thisSec)
		} else {
			s.lastRate = 0
		}
		s.second, s.thisSec = now, 0
	}
	s.thisSec++
	rate := s.lastRate
	s.mu.Unlock()
	if o.FallOver && rate > o.Capacity {
		s.broken.Store(true)
	}
	switch {
	case s.broken.Load():
		return extra + 400*time.Millisecond, s.float64() < 0.2
	case rate > o.Capacity:
		// Shed half the excess share of the load; the rest is served, slower.
		over := rate/o.Capacity - 1
		return extra + time.Duration(over*float64(50*time.Millisecond)), s.float64() < over/(1+over)/2
	}
	return extra, false
}

// delay sleeps the configured latency; false if the client went away.
func (s *Server) delay(r *http.Request) bool { return s.delayExtra(r, 0) }

// delayExtra sleeps the configured latency and extra; false if the client went away.
func (s *Server) delayExtra(r *http.Request, extra time.Duration) bool {
	d := s.opts.Latency + extra
	if s.opts.Jitter > 0 {
		d += time.Duration(s.int64n(int64(s.opts.Jitter) + 1))
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
