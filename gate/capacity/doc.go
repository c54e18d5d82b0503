// Package capacity is the article's stress test: it finds the highest load at which a
// target still holds every rule of the gate (its capacity), and where its latency
// starts to climb steeply (the knee).
//
// A search (Search) is pure logic over steps: it grows the level by a factor until a
// step breaks, bisects the bracket, then confirms both of its ends with longer holds,
// within a budget of load time. A Runner runs each step as a run of its own against the
// target (package run) and judges it as the gate judges a run (package verdict):
// latency and error-rate rules, the load delivered, and the generator's own health, a
// step perfgate itself could not deliver ending the search rather than counting
// against the target.
package capacity
