package verdict

// Status is the outcome of a run, a phase, a question or a single rule.
type Status int

// Outcomes.
const (
	Pass    Status = iota // every rule held
	Fail                  // a rule was breached: a regression
	Invalid               // no valid verdict: the load was not delivered, or a rule had no data
	NotRun                // the phase never started: an earlier one ended the run
	// Inconclusive is a statistical rule whose interval straddles its limit: the run
	// cannot tell whether it holds. It makes the run Invalid (reason inconclusive), or
	// is a warning if the plan says so.
	Inconclusive
)

var statusNames = [...]string{Pass: "pass", Fail: "fail", Invalid: "invalid", NotRun: "not run", Inconclusive: "inconclusive"}

// String returns "pass", "fail", "invalid", "not run" or "inconclusive".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "invalid"
}

// worse returns the status that says more about a question: Invalid (it cannot be
// answered) over Fail (it was answered: no) over Inconclusive (not sure enough) over
// NotRun over Pass.
func worse(a, b Status) Status {
	rank := [...]int{Pass: 0, NotRun: 1, Inconclusive: 2, Fail: 3, Invalid: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
