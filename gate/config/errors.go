package config

import (
	"errors"
	"fmt"
	"strings"

	goyaml "github.com/goccy/go-yaml"
	goyamlparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// Pos is a position in a user's file, 1-based. The zero Pos means "unknown".
type Pos struct {
	Line, Col int
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// Error is a problem in a user's file at a known place. Its text is
// "file:line:col: message", the form editors and CI log viewers link to.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Pos.Line)
		if e.Pos.Col > 0 {
			fmt.Fprintf(&b, "%d:", e.Pos.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf returns an *Error at pos in file.
func Errorf(file string, pos Pos, format string, args ...any) *Error {
	return &Error{File: file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// nodeErrorf is an *Error whose file is filled in by the caller that knows it.
func nodeErrorf(n *yaml.Node, format string, args ...any) *Error {
	return &Error{Pos: posOf(n), Msg: fmt.Sprintf(format, args...)}
}

// withFile fills in the file name of positioned errors and turns the YAML library's own
// errors ("yaml: line 3: ...") into positioned ones.
func withFile(file string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		if pe.File == "" {
			pe.File = file
		}
		return pe
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return &Error{File: file, Pos: lineOf(te.Errors[0]), Msg: stripLine(te.Errors[0])}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return &Error{File: file, Pos: lineOf(msg), Msg: "invalid YAML: " + stripLine(msg)}
}

// syntaxError places a YAML syntax error that yaml.v3 found. yaml.v3 says which line (not
// always the one at fault, and sometimes none) and never which column; goccy/go-yaml's
// parser, run on the same bytes only to place the error, gives both, and a message that
// says what it expected there. Where it finds no error, yaml.v3's own is given.
func syntaxError(file string, data []byte, err error) error {
	_, perr := goyamlparser.ParseBytes(data, 0)
	var se *goyaml.SyntaxError
	if errors.As(perr, &se) && se.Token != nil && se.Token.Position != nil {
		return &Error{File: file, Pos: Pos{Line: se.Token.Position.Line, Col: se.Token.Position.Column}, Msg: "invalid YAML: " + se.Message}
	}
	return withFile(file, err)
}

// lineOf reads the "line N: " prefix that yaml.v3 puts on its messages.
func lineOf(msg string) Pos {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		return Pos{Line: line}
	}
	return Pos{}
}

func stripLine(msg string) string {
	if strings.HasPrefix(msg, "line ") {
		if i := strings.Index(msg, ": "); i >= 0 {
			return msg[i+2:]
		}
	}
	return msg
}
