//go:build !linux

package load

import "context"

func newSleeper(ctx context.Context, failed <-chan struct{}) sleeper {
	return newTimerSleeper(ctx, failed)
}
