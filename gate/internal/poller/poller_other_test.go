//go:build !linux

package poller

import (
	"errors"
	"testing"
)

// Elsewhere than Linux the primitives say they are not there, so that a caller falls
// back; nothing panics.
func TestNotSupported(t *testing.T) {
	if _, err := NewEpoll(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("NewEpoll: %v", err)
	}
	if _, err := NewWaker(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("NewWaker: %v", err)
	}
	if _, err := NewTimer(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("NewTimer: %v", err)
	}
	if _, err := WaitReadable(0); !errors.Is(err, ErrNotSupported) {
		t.Errorf("WaitReadable: %v", err)
	}
	if _, err := DupFD(nil); !errors.Is(err, ErrNotSupported) {
		t.Errorf("DupFD: %v", err)
	}
	var r StampReader
	if _, _, err := r.Read(0, nil); !errors.Is(err, ErrNotSupported) || r.Stamped() {
		t.Errorf("StampReader.Read: %v, stamped %v", err, r.Stamped())
	}
	s := NewSleeper(t.Context(), nil)
	defer s.Close()
	if !s.Sleep(0) {
		t.Error("the sleeper does not sleep")
	}
}
