package poller

// What an epoll set watches a file for, and what Wait reports of it: epoll's own bits
// (linux/eventpoll.h), so that they go to the kernel as they are.
const (
	Readable   = 0x1    // EPOLLIN
	Writable   = 0x4    // EPOLLOUT
	Error      = 0x8    // EPOLLERR: reported whether asked for or not
	Hangup     = 0x10   // EPOLLHUP: reported whether asked for or not
	PeerClosed = 0x2000 // EPOLLRDHUP: the peer closed its end (or shut down writing)
	// EdgeTriggered reports a change once, when it happens, rather than on every wait
	// while it holds (EPOLLET, which the syscall package declares negative).
	EdgeTriggered = 1 << 31
)
