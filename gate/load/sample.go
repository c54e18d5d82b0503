package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Kind classifies how a request ended.
type Kind uint8

// Outcome kinds. Every kind but OK counts as an error, and Generator as none: it is
// perfgate's own failure, left out of the target's figures (see generator.go).
const (
	OK             Kind = iota
	ConnRefused         // the target refused the TCP connection
	Timeout             // no complete response within the request timeout
	ConnReset           // the connection was reset or closed mid-exchange
	TLSFailure          // handshake failed or the certificate was not trusted
	Transport           // any other network or protocol failure
	Status4xx           // an unexpected 4xx status
	Status5xx           // an unexpected 5xx status
	Expectation         // an unexpected status below 400, or a body check failed
	SetupFailed         // a setup step's response lacked a value to extract
	InvalidRequest      // the request could not be sent as it was: a variable filled a header with a line break
	Generator           // perfgate itself ran out of something (file descriptors, ports): not the target's error
	NumKinds
)

var kindNames = [NumKinds]string{
	"ok", "connect_refused", "timeout", "connection_reset", "tls", "transport",
	"status_4xx", "status_5xx", "expectation", "setup", "invalid_request", "generator",
}

// errInvalidHeader is the error of a request whose header, its variables filled in, holds
// a value no header may hold; neither client sends it.
var errInvalidHeader = errors.New("a header holds a line break or another control character once its variables are filled in: not sent")

// errInvalidURL is the error of a request whose URL, its variables filled in, does not
// parse; neither client sends it.
var errInvalidURL = errors.New("the request URL is invalid once its variables are filled in: not sent")

// String returns the kind's name as reports print it.
func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return "unknown"
}

// Stage says which part of the run a request started in.
type Stage uint8

// Stages of a closed-model run.
const (
	Ramp Stage = iota // users are still starting
	Hold              // every user is running: the measured window
	NumStages
)

// String names the stage.
func (s Stage) String() string {
	if s == Hold {
		return "hold"
	}
	return "ramp"
}

// Sample is one completed request.
type Sample struct {
	// User is the virtual user's number; recorders may shard by it.
	User     int
	Endpoint int
	Stage    Stage
	// Offset is when the request started (open model: was due), from the start of the run.
	Offset time.Duration
	// Latency is what a client saw: from the send (open model: from when the request was
	// due, or the generator ready to send it if that was later; see arrival) to the end
	// of the body, so that queueing behind a stalled target counts.
	Latency time.Duration
	// Service is from the actual send to the end of the body; Lag is how late the send
	// was against the schedule (open model only, else 0).
	Service time.Duration
	Lag     time.Duration
	Status  int // 0 when no response arrived
	Kind    Kind
	Bytes   int64 // response body bytes received
}

// Recorder receives samples from many goroutines at once.
type Recorder interface {
	Record(Sample)
}

// classify maps a transport error to a Kind.
func classify(err error) Kind {
	var ne net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.Is(err, errInvalidHeader), errors.Is(err, errInvalidURL):
		return InvalidRequest
	}
	if _, ok := generatorFailure(err); ok {
		return Generator
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ConnRefused
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidCert), errors.As(err, &recErr), errors.As(err, &alert):
		return TLSFailure
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ConnReset
	}
	return Transport
}

// statusKind classifies a response status that was not expected.
func statusKind(code int) Kind {
	switch {
	case code >= 500:
		return Status5xx
	case code >= 400:
		return Status4xx
	}
	return Expectation
}
