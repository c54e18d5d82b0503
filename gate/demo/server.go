// Package demo is the built-in sample API: the three endpoints of the article's Locust
// example (POST /auth/token, GET /api/products, GET /api/products/{id}) with settable
// latency and error rate, so that `perfgate demo` shows a whole gate working, and tests
// have a real HTTP server to hit. Its products are in a real database (SQLite, through a
// database/sql pool), and it exposes real metrics at /metrics (client_golang's process,
// Go and database/sql collectors), so that the stress test has resources to read; flags
// make one of them its limit: a small pool, a CPU-heavy handler, a leak. It also carries
// the demo's config.
package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	_ "embed" // the demo config
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

	// Pool is the most connections the database pool opens (0: no limit). Each /api/
	// request holds one for its query and for the latency above, the database's time,
	// so the pool serves at most Pool / latency requests a second, and requests past
	// that wait for a connection.
	Pool int
	// CPUWork is the processor work each /api/ request does (hashing for as long as it
	// takes on a quiet machine): the API serves at most a processor's second / CPUWork
	// requests a second for each processor Go may use.
	CPUWork time.Duration
	// LeakMemory is memory each /api/ request keeps for good, up to MemoryLimit
	// (DefaultMemoryLimit if 0); from there, /api/ requests fail with 503, as
	// allocations in a full heap would.
	LeakMemory, MemoryLimit int64
}

// DefaultMemoryLimit is how much memory a leak may take when no limit is set.
const DefaultMemoryLimit = 256 << 20

// Overloaded is the sample API with a capacity between the demo's peak and twice it;
// Stressed the one whose capacity `perfgate demo --capacity` searches for: a database
// pool of 4 connections, each held 5-15 ms a request, which serves about 400 requests a
// second (4 / 10 ms) and queues past it.
var (
	Overloaded = Options{Latency: Healthy.Latency, Jitter: Healthy.Jitter, Capacity: 150}
	Stressed   = Options{Latency: Healthy.Latency, Jitter: Healthy.Jitter, Pool: 4}
)

// StressedCapacity is what Stressed's pool can serve: 4 connections / 10 ms.
const StressedCapacity = 400

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

	// store is the products' database, or storeErr why it could not be opened;
	// metrics is the registry /metrics serves; leak the memory kept for good.
	store    *store
	storeErr error
	metrics  *prometheus.Registry
	leak     leak

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
	s.leak.per, s.leak.limit = opts.LeakMemory, opts.MemoryLimit
	if s.leak.limit == 0 {
		s.leak.limit = DefaultMemoryLimit
	}
	if opts.CPUWork > 0 {
		roundsPerSecond() // measured before the first request, not during one
	}
	s.metrics = prometheus.NewRegistry()
	s.metrics.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(runnable)))
	s.store, s.storeErr = openStore(opts.Pool)
	if s.storeErr == nil {
		s.metrics.MustRegister(collectors.NewDBStatsCollector(s.store.db, "products"))
	}
	return s
}

// runnable adds to the Go collector's default metrics how long goroutines ready to run
// waited for a processor (go_sched_latencies_seconds): the processors' saturation,
// beside their use (process_cpu_seconds_total).
var runnable = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)}

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
	if o.Pool > 0 {
		s += fmt.Sprintf(", database pool of %d", o.Pool)
	}
	if o.CPUWork > 0 {
		s += fmt.Sprintf(", %s of processor work a request", o.CPUWork)
	}
	if o.LeakMemory > 0 {
		limit := o.MemoryLimit
		if limit == 0 {
			limit = DefaultMemoryLimit
		}
		s += fmt.Sprintf(", keeping %s a request up to %s", bytesString(o.LeakMemory), bytesString(limit))
	}
	return s
}

// bytesString says a size in bytes in binary units: "64KiB", "256MiB".
func bytesString(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.unit)
		}
	}
	return fmt.Sprintf("%dB", n)
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
	if o.Pool < 0 || o.CPUWork < 0 || o.LeakMemory < 0 || o.MemoryLimit < 0 {
		return errors.New("pool, processor work, leak and memory limit must not be negative")
	}
	if o.MemoryLimit > 0 && o.LeakMemory > o.MemoryLimit {
		return fmt.Errorf("a leak of %s a request does not fit in the memory limit of %s", bytesString(o.LeakMemory), bytesString(o.MemoryLimit))
	}
	return nil
}

// Handler serves the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("POST /auth/token", s.token)
	mux.HandleFunc("GET /api/products", s.auth(products))
	mux.HandleFunc("GET /api/products/{id}", func(w http.ResponseWriter, r *http.Request) { s.auth(productOf(r))(w, r) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	})
}

// Requests counts the requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Start listens on addr (127.0.0.1:0 picks a free port) and serves in the background.
func (s *Server) Start(addr string) error {
	if s.storeErr != nil {
		return fmt.Errorf("the sample API's database: %w", s.storeErr)
	}
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

// Shutdown stops a started server, waiting for requests in flight until ctx ends, and
// closes its database.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	if s.srv != nil {
		err = s.srv.Shutdown(ctx)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the API's database: a server used only through Handler calls it when
// done. Requests after it fail with 503.
func (s *Server) Close() error {
	if s.store == nil {
		return nil
	}
	return s.store.close()
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

// query answers an /api/ request from the database: it holds a connection of the pool
// (waiting for one while all are in use) for the API's latency, then runs q on it.
type query func(ctx context.Context, c *sql.Conn) (code int, body any, err error)

// auth serves an authorised /api/ request: the token checked, the request counted
// against the API's capacity, its processor work and its leak done, and q answered
// from the database after the API's latency, unless it fails on purpose.
func (s *Server) auth(q query) http.HandlerFunc {
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
		if s.opts.CPUWork > 0 {
			work(s.opts.CPUWork)
		}
		if !s.leak.grow() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "out of memory"})
			return
		}
		if s.store == nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the database is not open"})
			return
		}
		c, err := s.store.conn(r.Context())
		if err != nil {
			if r.Context().Err() == nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the database is not available"})
			}
			return
		}
		defer c.Close() //nolint:errcheck // back to the pool; nothing was written
		if !s.delayExtra(r, extra) {
			return
		}
		if s.opts.ErrorRate > 0 && s.float64() < s.opts.ErrorRate {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "injected failure"})
			return
		}
		code, body, err := q(r.Context(), c)
		if err != nil {
			if r.Context().Err() == nil {
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the query failed"})
			}
			return
		}
		writeJSON(w, code, body)
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

// products is a page of 20 products.
func products(ctx context.Context, c *sql.Conn) (int, any, error) {
	page, err := list(ctx, c, 12340, 20)
	return http.StatusOK, map[string]any{"products": page, "total": len(page)}, err
}

// productOf is the product the path names, or 404.
func productOf(r *http.Request) query {
	id, err := strconv.Atoi(r.PathValue("id"))
	return func(ctx context.Context, c *sql.Conn) (int, any, error) {
		if err != nil || id <= 0 {
			return http.StatusNotFound, map[string]string{"error": "no such product"}, nil
		}
		p, ok, err := get(ctx, c, id)
		if !ok && err == nil {
			return http.StatusNotFound, map[string]string{"error": "no such product"}, nil
		}
		return http.StatusOK, p, err
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do about it
}
