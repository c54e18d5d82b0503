package poller

import (
	"syscall"
	"unsafe"
)

// The open-model loop times a response by when the kernel received it, not by when the
// loop got round to reading it. On a shared machine the generator's thread is sometimes
// descheduled for a millisecond or more; a response that arrives meanwhile would carry
// that stall as latency of the target. The kernel stamps a packet as it enters the
// receive path (on loopback, in the sender's own write), so the stamp does not move when
// the generator is late. Precise load generators do the same with the network card's
// stamps (Lancet, ATC '19).

// StampReader reads a socket with the receive time of the data it returns. Its zero
// value is ready to use; it is not safe for concurrent use.
type StampReader struct {
	iov syscall.Iovec
	msg syscall.Msghdr
	oob [64]byte // room for a few control messages; a timestamp takes 32 bytes
	// stamped is set while the kernel stamps: the last read that returned data had a stamp.
	stamped bool
}

// EnableRxStamps asks the kernel to stamp the data it receives on fd (SO_TIMESTAMPNS:
// wall-clock nanoseconds, returned with each read).
func EnableRxStamps(fd int) error {
	return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

// Read is the package's Read of a non-blocking socket, plus the wall-clock time (Unix
// nanoseconds) at which the last of the returned data arrived, or 0 if the kernel gave
// none.
func (r *StampReader) Read(fd int, b []byte) (n int, stamp int64, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	r.iov.Base = &b[0]
	r.iov.SetLen(len(b))
	r.msg = syscall.Msghdr{Iov: &r.iov, Iovlen: 1, Control: &r.oob[0]}
	r.msg.SetControllen(len(r.oob))
	m, _, errno := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.msg)), 0)
	r.iov.Base = nil // no reference to b outlives the call
	if errno != 0 {
		return 0, 0, errno
	}
	stamp = r.stamp(int(r.msg.Controllen))
	if m > 0 {
		r.stamped = stamp != 0
	}
	return int(m), stamp, nil
}

// Stamped reports whether the kernel stamps: the last read that returned data had a
// stamp (a read without one is timed by the read).
func (r *StampReader) Stamped() bool { return r.stamped }

// stamp finds the SCM_TIMESTAMPNS message in the first oobn bytes of the control buffer.
func (r *StampReader) stamp(oobn int) int64 {
	hdr := syscall.CmsgLen(0) // the header, aligned: where a message's data starts
	for off := 0; off+hdr <= oobn; {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&r.oob[off]))
		size := int(h.Len)
		if size < hdr || off+size > oobn {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && size >= syscall.CmsgLen(int(unsafe.Sizeof(syscall.Timespec{}))) {
			return (*syscall.Timespec)(unsafe.Pointer(&r.oob[off+hdr])).Nano()
		}
		off += syscall.CmsgSpace(size - hdr)
	}
	return 0
}
