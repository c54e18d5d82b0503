package poller

import "errors"

// ErrNotSupported is what the primitives report on a system that does not have them
// (anything but Linux): the engine then runs without event loops.
var ErrNotSupported = errors.New("not supported on this system")
