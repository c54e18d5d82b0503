// Package thresholds holds the repository's committed threshold files. The demo's are
// embedded so that `perfgate demo` works from any folder.
package thresholds

import "embed"

// Files holds every threshold file in this folder.
//
//go:embed *.yaml
var Files embed.FS
