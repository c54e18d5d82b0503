package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the result file.
func WriteJSON(w io.Writer, r *Result) error { return writeIndented(w, r) }

// writeIndented writes v as indented JSON, with <, > and & as they are.
func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ReadJSON reads a result file back: this version, or perfgate.result/v1, which it turns
// into this one.
func ReadJSON(rd io.Reader) (*Result, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(rd).Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a perfgate result: %v", err)
	}
	var head struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("not a perfgate result: %v", err)
	}
	switch head.Version {
	case ResultVersion:
		var r Result
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("not a perfgate result: %v", err)
		}
		r.neutralize(nil) // a file may come from anywhere
		return &r, nil
	case resultV1:
		var old resultOne
		if err := json.Unmarshal(raw, &old); err != nil {
			return nil, fmt.Errorf("not a perfgate result: %v", err)
		}
		r := old.upgrade()
		r.neutralize(nil)
		return r, nil
	}
	return nil, fmt.Errorf("result version %q is not %q (or %q)", head.Version, ResultVersion, resultV1)
}
