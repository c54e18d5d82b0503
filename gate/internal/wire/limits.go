package wire

import "errors"

const (
	// ReadBufSize is the read buffer a connection starts with. Most responses of a load
	// test are small: a connection starts with a small buffer, and one that meets a large
	// body gets a larger one, to read it in fewer syscalls.
	ReadBufSize = 4 << 10
	bodyReadBuf = 64 << 10

	// MaxHeaderBytes bounds a response's status line and headers.
	MaxHeaderBytes = 1 << 20

	// MaxKeptBody bounds how much of a response is kept for extraction and body checks;
	// the rest is read, counted and discarded so that a huge response costs no memory.
	MaxKeptBody = 1 << 20
)

// ErrMalformed is the error, wrapped with what was wrong, of a response that is not
// HTTP/1.x as the parser reads it.
var ErrMalformed = errors.New("malformed HTTP response")

// ErrHeadersTooLarge is the error of a response whose head passes MaxHeaderBytes.
var ErrHeadersTooLarge = errors.New("response headers are larger than 1 MB")
