// Package load is the engine: it runs a plan's virtual users against the target under a
// context and hands every completed request, as a Sample, to the Recorder it was given.
//
// The closed model works like Locust: users start at the plan's spawn rate; each runs
// its setup steps once (retrying a failed login a few times), then picks tasks by weight
// with a uniform think time between them, over its own keep-alive connections. The hold
// at peak, the measured window, starts once every user has finished its setup and lasts
// the plan's duration; samples carry the stage (ramp or hold) they started in. When the
// hold ends no new request starts, and requests in flight finish within their timeout.
//
// The engine knows nothing of histograms or reports: it measures and hands on. HTTP/1.1
// on the wire (the request writer, the response parser, the keep-alive client) is
// gate/internal/wire's, and the Linux primitives its event loops are built on (epoll,
// eventfd, timerfd, receive stamps) are gate/internal/poller's; the engine schedules.
package load
