package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ResponseParser reads one HTTP/1.x response from bytes as they arrive, in whatever
// pieces: the blocking Client feeds it what each read returns, an event loop what each
// readiness brings. It keeps no bytes of its own: Feed consumes from the caller's buffer
// what it has used, and asks for more by consuming nothing. Its zero value is ready for
// Reset.
type ResponseParser struct {
	state      parseState
	head       bool // the request was HEAD: no body follows
	status     int
	closeAfter bool
	remaining  int64         // of a body with a length, or of a chunk
	bytes      int64         // body bytes so far
	body       *bytes.Buffer // keeps the first MaxKeptBody bytes, when set
}

type parseState uint8

const (
	parseHeader    parseState = iota // status line and headers, up to the empty line
	parseBody                        // remaining bytes of a body with a length
	parseToEOF                       // a body that ends when the connection closes
	parseChunkSize                   // a chunk-size line
	parseChunkData                   // remaining bytes of a chunk
	parseChunkEnd                    // the CRLF after a chunk
	parseTrailer                     // trailer lines, up to an empty line
	parseDone
)

// Reset prepares the parser for the response to a new request: head says the request was
// HEAD (no body follows), and body, when not nil, keeps the first MaxKeptBody bytes of
// the body (the rest is counted and dropped).
func (p *ResponseParser) Reset(head bool, body *bytes.Buffer) {
	*p = ResponseParser{head: head, body: body}
}

// Done reports whether the response is complete.
func (p *ResponseParser) Done() bool { return p.state == parseDone }

// Status is the response's status code; 0 until its head is parsed.
func (p *ResponseParser) Status() int { return p.status }

// CloseAfter reports whether the connection cannot carry another request after this
// response: the response said so, is HTTP/1.0 without keep-alive, or ends with the
// connection.
func (p *ResponseParser) CloseAfter() bool { return p.closeAfter }

// BodyBytes is how many bytes of the body have arrived, kept or not.
func (p *ResponseParser) BodyBytes() int64 { return p.bytes }

// Remaining is how many bytes of a body with a length, or of the current chunk, are
// known to be still to come; 0 while the head is being read. A large one is worth a
// larger read buffer.
func (p *ResponseParser) Remaining() int64 {
	if p.state == parseHeader {
		return 0
	}
	return p.remaining
}

// Feed consumes what it can of b and reports how much. Zero bytes consumed with no
// error means it needs more than b holds (a header or a chunk line not yet complete).
func (p *ResponseParser) Feed(b []byte) (int, error) {
	used := 0
	for p.state != parseDone && used < len(b) {
		n, err := p.step(b[used:])
		used += n
		if err != nil || n == 0 {
			return used, err
		}
	}
	return used, nil
}

// EOF tells the parser the connection closed, anyBytes saying whether any of the
// response had arrived and pending holding what of it was not yet consumed: that ends a
// body read to EOF, and is io.ErrUnexpectedEOF anywhere else (io.EOF when nothing
// arrived). In the middle of the head it reads the unfinished line as net/http does, as
// if the close had ended it: an unfinished line that is no status line or header makes
// the response malformed.
func (p *ResponseParser) EOF(anyBytes bool, pending []byte) error {
	switch {
	case p.state == parseToEOF:
		p.state = parseDone
		return nil
	case p.state == parseDone:
		return nil
	case p.state == parseHeader && len(pending) > 0 && pending[len(pending)-1] != '\n':
		if _, _, _, _, _, err := parseHead(append(pending[:len(pending):len(pending)], '\n')); errors.Is(err, ErrMalformed) {
			return err
		}
		return io.ErrUnexpectedEOF
	case anyBytes:
		return io.ErrUnexpectedEOF
	}
	return io.EOF
}

func (p *ResponseParser) step(b []byte) (int, error) {
	switch p.state {
	case parseHeader:
		n, status, closeAfter, length, chunked, err := parseHead(b)
		if n == 0 || err != nil {
			return 0, err
		}
		if status >= 100 && status < 200 {
			return n, nil // 100 Continue, 103 Early Hints: the real response follows
		}
		p.status, p.closeAfter = status, closeAfter
		switch {
		case p.head || status == 204 || status == 304:
			p.state = parseDone
		case chunked:
			p.state = parseChunkSize
		case length >= 0:
			p.state, p.remaining = parseBody, length
			if length == 0 {
				p.state = parseDone
			}
		default:
			p.state, p.closeAfter = parseToEOF, true
		}
		return n, nil
	case parseBody, parseChunkData:
		n := int(min(int64(len(b)), p.remaining))
		p.take(b[:n])
		p.remaining -= int64(n)
		if p.remaining == 0 {
			if p.state == parseBody {
				p.state = parseDone
			} else {
				p.state = parseChunkEnd
			}
		}
		return n, nil
	case parseToEOF:
		p.take(b)
		return len(b), nil
	case parseChunkSize:
		line, n, err := cutLine(b)
		if n == 0 || err != nil {
			return 0, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return 0, fmt.Errorf("%w: bad chunk size", ErrMalformed)
		}
		p.state, p.remaining = parseChunkData, size
		if size == 0 {
			p.state = parseTrailer
		}
		return n, nil
	case parseChunkEnd:
		line, n, err := cutLine(b)
		if n == 0 || err != nil {
			return 0, err
		}
		if len(line) != 0 {
			return 0, fmt.Errorf("%w: chunk not followed by CRLF", ErrMalformed)
		}
		p.state = parseChunkSize
		return n, nil
	case parseTrailer:
		line, n, err := cutLine(b)
		if n == 0 || err != nil {
			return 0, err
		}
		if len(line) == 0 {
			p.state = parseDone
		}
		return n, nil
	}
	return 0, nil
}

// take counts body bytes, keeping the first of them when asked to.
func (p *ResponseParser) take(b []byte) {
	p.bytes += int64(len(b))
	if p.body != nil && p.body.Len() < MaxKeptBody {
		p.body.Write(b[:min(len(b), MaxKeptBody-p.body.Len())])
	}
}

// cutLine returns the CRLF-terminated line at the start of b and its length with the
// CRLF; 0 when b holds no whole line yet.
func cutLine(b []byte) (line []byte, n int, err error) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		if len(b) > 4096 {
			return nil, 0, fmt.Errorf("%w: chunk line too long", ErrMalformed)
		}
		return nil, 0, nil
	}
	return b[:i], i + 2, nil
}

// parseHead parses the status line and headers at the start of b, up to and with the
// empty line, in one pass and without allocating; n is 0 while b holds no whole head.
// Lines end with CRLF or, as net/http allows, a bare LF. Of the headers only
// Content-Length, Transfer-Encoding and Connection matter, and only names of their
// lengths are compared.
func parseHead(b []byte) (n, status int, closeAfter bool, length int64, chunked bool, err error) {
	length = -1
	malformed := func(err error) (int, int, bool, int64, bool, error) { return 0, 0, false, -1, false, err }
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return malformed(headTooLong(b))
	}
	// HTTP/1.x NNN reason
	line := trimCR(b[:eol])
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return malformed(ErrMalformed)
	}
	status = atoi3(line[9:12])
	if status < 100 || (len(line) > 12 && line[12] != ' ') {
		return malformed(ErrMalformed)
	}
	closeAfter = line[7] == '0' // HTTP/1.0 closes unless it says keep-alive
	for pos := eol + 1; ; {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return malformed(headTooLong(b))
		}
		line := trimCR(b[pos : pos+i])
		pos += i + 1
		if len(line) == 0 {
			return pos, status, closeAfter, length, chunked, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return malformed(ErrMalformed)
		}
		name, value := line[:colon], line[colon+1:]
		switch len(name) {
		case len("content-length"):
			if equalFold(name, "content-length") {
				prev := length
				if length, err = parseLength(value); err != nil {
					return malformed(err)
				}
				if prev >= 0 && prev != length { // which one frames the body? net/http refuses it too
					return malformed(fmt.Errorf("%w: two different Content-Length headers", ErrMalformed))
				}
			}
		case len("transfer-encoding"):
			if equalFold(name, "transfer-encoding") {
				chunked = containsFold(value, "chunked")
			}
		case len("connection"):
			if equalFold(name, "connection") {
				if containsFold(value, "close") {
					closeAfter = true
				} else if containsFold(value, "keep-alive") {
					closeAfter = false
				}
			}
		}
	}
}

// headTooLong is the error of a head not yet complete: none until it passes 1 MB.
func headTooLong(b []byte) error {
	if len(b) >= MaxHeaderBytes {
		return ErrHeadersTooLarge
	}
	return nil
}

// trimCR drops the CR of a CRLF line ending.
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// parseLength reads a Content-Length value: decimal digits between optional blanks.
func parseLength(v []byte) (int64, error) {
	v = bytes.Trim(v, " \t")
	if len(v) == 0 || len(v) > 18 {
		return -1, fmt.Errorf("%w: bad Content-Length", ErrMalformed)
	}
	var n int64
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			return -1, fmt.Errorf("%w: bad Content-Length", ErrMalformed)
		}
		n = n*10 + int64(ch-'0')
	}
	return n, nil
}

// containsFold reports whether the ASCII text b contains the lower-case word, in any
// case, without allocating.
func containsFold(b []byte, word string) bool {
	for i := 0; i+len(word) <= len(b); i++ {
		if equalFold(b[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

func atoi3(b []byte) int {
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return -1
		}
		n = n*10 + int(ch-'0')
	}
	return n
}

// equalFold compares an ASCII header name with a lower-case one.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}
