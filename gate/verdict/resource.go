package verdict

import (
	"fmt"

	"github.com/perfgate/perfgate/gate/load"
	"github.com/perfgate/perfgate/gate/plan"
	"github.com/perfgate/perfgate/gate/resource"
	"github.com/perfgate/perfgate/gate/run"
)

// ResourceCheck is a resource rule's outcome over the main phase's hold.
type ResourceCheck struct {
	Rule plan.ResourceRule
	// Status is Pass or Fail, or Invalid when too few of the hold's windows read the
	// resource (or, for a share, its limit): a rule without data fails closed.
	Status Status
	// Measured is the resource's mean over the windows that read it (for a rule on a
	// share, the mean of its share of the limit), in Windows of the hold's Of.
	Measured    float64
	Windows, Of int
	// Why says what was missing, for an Invalid check.
	Why string
}

// MinResourceWindows is the share of the hold's windows that must read a resource for
// its rule to be judged.
const MinResourceWindows = 0.5

// resources judges the plan's resource rules over the main phase's hold; a rule without
// data adds a reason for no verdict.
func (j *judge) resources() []ResourceCheck {
	if len(j.p.ResourceRules) == 0 || j.p.Main < 0 || j.p.Main >= len(j.rec.Phases) {
		return nil
	}
	var windows []run.Window
	for _, w := range j.rec.Windows {
		if w.Phase == j.p.Main && w.Stage == load.Hold {
			windows = append(windows, w)
		}
	}
	out := make([]ResourceCheck, 0, len(j.p.ResourceRules))
	for _, r := range j.p.ResourceRules {
		c := ResourceCheck{Rule: r, Of: len(windows)}
		var sum float64
		lastErr := ""
		for _, w := range windows {
			if w.ResourceError != "" {
				lastErr = w.ResourceError
			}
			if r.Series >= len(w.Resources) || !w.Resources[r.Series].OK {
				continue
			}
			v := w.Resources[r.Series].V
			if r.LimitSeries >= 0 {
				if r.LimitSeries >= len(w.Resources) || !w.Resources[r.LimitSeries].OK {
					continue
				}
				limit := w.Resources[r.LimitSeries].V
				if !resource.Limited(limit) {
					continue
				}
				v /= limit
			}
			sum += v
			c.Windows++
		}
		switch {
		case c.Of == 0 || float64(c.Windows) < MinResourceWindows*float64(c.Of):
			c.Status = Invalid
			c.Why = fmt.Sprintf("%s was read in %d of the hold's %d windows", r.Name, c.Windows, c.Of)
			if r.LimitSeries >= 0 {
				c.Why = fmt.Sprintf("%s and its limit were read in %d of the hold's %d windows", r.Name, c.Windows, c.Of)
			}
			if lastErr != "" {
				c.Why += ": " + lastErr
			}
			j.ruleReasons = append(j.ruleReasons, Reason{Code: ResourceUnread, Phase: j.rec.Phases[j.p.Main].Name, Check: -1,
				Detail: r.Text + ": " + c.Why})
		default:
			c.Measured = sum / float64(c.Windows)
			c.Status = Fail
			if r.Holds(c.Measured) {
				c.Status = Pass
			}
		}
		out = append(out, c)
	}
	return out
}
