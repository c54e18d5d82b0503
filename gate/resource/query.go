package resource

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/perfgate/perfgate/gate/internal/safetext"
)

// Expr is one resource read from a Prometheus server: a PromQL expression that must
// come to one series (aggregate it: sum(rate(process_cpu_seconds_total{job="api"}[30s]))).
type Expr struct {
	Name, Query string
}

// Query reads expressions from a Prometheus server's HTTP API (client_golang's client)
// over an exact span of time, one point a step: the hold, window by window.
type Query struct {
	URL   string
	Exprs []Expr
	// Timeout bounds each query (default 10 s).
	Timeout   time.Duration
	Transport http.RoundTripper
}

// Point is an expression's value at one instant.
type Point struct {
	At time.Time
	V  float64
}

// Range evaluates every expression from start to end, one point every step, and returns
// each expression's points, in the order of Exprs. An expression that comes to no
// series, or to several, is an error that names it; so is a server that cannot be
// reached or refuses the query.
func (q *Query) Range(ctx context.Context, start, end time.Time, step time.Duration) ([][]Point, error) {
	where := safetext.HideURLPasswords(q.URL)
	client, err := api.NewClient(api.Config{Address: q.URL, RoundTripper: q.Transport})
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s", ErrScrape, where, safetext.Line(safetext.HideURLPasswords(err.Error())))
	}
	prom := v1.NewAPI(client)
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	out := make([][]Point, len(q.Exprs))
	for i, e := range q.Exprs {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		val, _, _, err := prom.QueryRange(qctx, e.Query, v1.Range{Start: start, End: end, Step: step})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w %s, %s (%s): %s", ErrScrape, where, e.Name, safetext.Line(e.Query), safetext.Line(safetext.HideURLPasswords(err.Error())))
		}
		m, ok := val.(model.Matrix)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w %s, %s (%s): a range query gave a %s, not series", ErrScrape, where, e.Name, safetext.Line(e.Query), val.Type())
		case len(m) == 0:
			return nil, fmt.Errorf("%w %s, %s (%s): no series over the hold: check the expression, and that Prometheus scrapes the target", ErrScrape, where, e.Name, safetext.Line(e.Query))
		case len(m) > 1:
			labels := make([]string, 0, 3)
			for _, s := range m[:min(3, len(m))] {
				labels = append(labels, s.Metric.String())
			}
			return nil, fmt.Errorf("%w %s, %s (%s): %d series (%s...): aggregate them to one, as in sum(...)", ErrScrape, where, e.Name,
				safetext.Line(e.Query), len(m), safetext.Line(strings.Join(labels, ", ")))
		}
		for _, p := range m[0].Values {
			out[i] = append(out[i], Point{At: p.Timestamp.Time(), V: float64(p.Value)})
		}
	}
	return out, nil
}
