package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the result file.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// ReadJSON reads a result file back, refusing other versions.
func ReadJSON(rd io.Reader) (*Result, error) {
	var r Result
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a perfgate result: %v", err)
	}
	if r.Version != ResultVersion {
		return nil, fmt.Errorf("result version %q is not %q", r.Version, ResultVersion)
	}
	return &r, nil
}
