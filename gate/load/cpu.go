package load

import (
	"time"

	"github.com/perfgate/perfgate/gate/internal/hostload"
)

// cpuTime is the process's user and system CPU time so far.
var cpuTime = hostload.ProcessCPU

// cpuShare is the CPU used between two readings over what the processors could give.
func cpuShare(cpu time.Duration, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / (wall.Seconds() * float64(processors))
}
