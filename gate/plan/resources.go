package plan

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/resource"
)

// Resources is where the target's resources are read, and which: the target's metrics
// endpoint (Scrape) or a Prometheus server (Prometheus, each series a query).
type Resources struct {
	Scrape, Prometheus string
	Series             []resource.Series
}

// seriesName is what a resource's name may be: it is a key of reports and rules.
var seriesName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (b *builder) resources() error {
	r := b.cfg.Resources
	if r.Prometheus != "" {
		return b.prometheus()
	}
	if r.Scrape == "" {
		if len(r.Series) > 0 {
			return b.errorf(r.Pos.Of("series"), "resources.series: name where to read them: resources.scrape: URL of the target's /metrics")
		}
		return nil
	}
	scrape := r.Scrape
	if strings.HasPrefix(scrape, "/") && b.p.Target != nil {
		// A path on the target: its own /metrics.
		t := *b.p.Target
		t.Path, t.RawPath = t.Path+scrape, ""
		scrape = t.String()
	}
	u, err := url.Parse(scrape)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return b.errorf(r.Pos.Of("scrape"), "resources.scrape %q is neither an http:// or https:// URL with a host nor a path on the target (/metrics)", RedactURL(r.Scrape))
	}
	if pw := URLPassword(r.Scrape); pw != "" {
		b.p.Secrets = append(b.p.Secrets, pw)
	}
	out := &Resources{Scrape: scrape, Series: resource.Defaults}
	if len(r.Series) > 0 {
		out.Series = nil
		seen := map[string]bool{}
		for i, s := range r.Series {
			if err := b.seriesName(seen, i, s); err != nil {
				return err
			}
			switch {
			case s.Query != "":
				return b.errorf(s.Pos.Of("query"), "resources.series[%d] (%s): query: is for a Prometheus server (resources.prometheus:); the target's /metrics is read by metric:", i, s.Name)
			case s.Metric == "":
				return b.errorf(s.Pos.Node, "resources.series[%d] (%s): metric: is not set: name the metric family to read", i, s.Name)
			case s.Counter && s.Mean:
				return b.errorf(s.Pos.Of("mean"), "resources.series[%d] (%s): counter: reads a rate and mean: a histogram's mean: set one", i, s.Name)
			}
			out.Series = append(out.Series, resource.Series{Name: s.Name, Metric: s.Metric, Labels: s.Labels, Counter: s.Counter, Mean: s.Mean})
		}
	}
	b.p.Resources = out
	return nil
}

// seriesName checks series i's name, and records it in seen: a name is a key of reports
// and rules, so it is plain and named once.
func (b *builder) seriesName(seen map[string]bool, i int, s config.ResourceSeries) error {
	switch {
	case !seriesName.MatchString(s.Name):
		return b.errorf(s.Pos.Of("name"), "resources.series[%d]: name %q must be lower-case letters, digits and _, starting with a letter", i, s.Name)
	case seen[s.Name]:
		return b.errorf(s.Pos.Of("name"), "resources.series[%d]: %q is named twice", i, s.Name)
	}
	seen[s.Name] = true
	return nil
}

// prometheus reads a Prometheus source: its URL, and series that are each a query.
func (b *builder) prometheus() error {
	r := b.cfg.Resources
	if r.Scrape != "" {
		return b.errorf(r.Pos.Of("prometheus"), "resources: name one source: scrape: (the target's /metrics) or prometheus: (a server that scrapes it), not both")
	}
	u, err := url.Parse(r.Prometheus)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return b.errorf(r.Pos.Of("prometheus"), "resources.prometheus %q is not an http:// or https:// URL with a host", RedactURL(r.Prometheus))
	}
	if pw := URLPassword(r.Prometheus); pw != "" {
		b.p.Secrets = append(b.p.Secrets, pw)
	}
	if len(r.Series) == 0 {
		return b.errorf(r.Pos.Of("prometheus"), "resources.prometheus: list the series to read, each a query of one series: series: [{name: cpu, query: 'sum(rate(process_cpu_seconds_total{job=\"api\"}[30s]))'}]")
	}
	out := &Resources{Prometheus: r.Prometheus}
	seen := map[string]bool{}
	for i, s := range r.Series {
		if err := b.seriesName(seen, i, s); err != nil {
			return err
		}
		switch {
		case s.Query == "":
			return b.errorf(s.Pos.Node, "resources.series[%d] (%s): query: is not set: a Prometheus source reads PromQL expressions", i, s.Name)
		case s.Metric != "" || s.Counter || s.Mean || len(s.Labels) > 0:
			return b.errorf(s.Pos.Node, "resources.series[%d] (%s): metric:, labels:, counter: and mean: are for scrape:; a query says it all (rate(...) for a counter)", i, s.Name)
		}
		out.Series = append(out.Series, resource.Series{Name: s.Name, Query: s.Query})
	}
	b.p.Resources = out
	return nil
}
