//go:build !linux

package load

import (
	"context"
	"errors"
)

// Elsewhere than Linux every closed-model user has its own goroutine, and the open
// model hands arrivals to goroutines.

type eventLoop struct{ pending chan loopStart }

func (e *Engine) loopEligible() bool { return false }

func (e *Engine) newEventLoop() (*eventLoop, error) {
	return nil, errors.New("no event loop on this system")
}

func (l *eventLoop) run(context.Context, <-chan struct{}) {}

func (l *eventLoop) wake() {}

func (e *Engine) runOpenLoop(context.Context) (Result, bool) { return Result{}, false }

// loopStart hands a user to an event loop, which this system has not.
type loopStart struct {
	id   int
	vars []string
	fd   int
}

func (e *Engine) setupForLoop(context.Context, int, <-chan struct{}, func(loopStart)) {}

func (e *Engine) closedLoops() int { return 0 }
