// Package userfile reads the files a user names (a config, thresholds, a baseline, a
// result): only regular files, and only up to a size no such file reaches, so that a
// named pipe, a device or a directory given by mistake is an error at once, never a
// wait forever or a read without end.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxSize is the largest file Read reads: far above any config, thresholds, baseline or
// result (a 5-minute result of 20 endpoints is about 360 KB).
const MaxSize = 64 << 20

// ErrNotExist is Read's error for a file that does not exist.
var ErrNotExist = fs.ErrNotExist

// Read reads the file at path; what names it in errors ("config", "baseline").
func Read(what, path string) ([]byte, error) {
	// Look before opening: opening a named pipe waits for a writer.
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s file %s does not exist: %w", what, path, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s file %s: %v", what, path, unwrap(err))
	}
	if !info.Mode().IsRegular() {
		kind := "not a regular file"
		switch {
		case info.IsDir():
			kind = "a directory"
		case info.Mode()&fs.ModeNamedPipe != 0:
			kind = "a named pipe"
		case info.Mode()&fs.ModeDevice != 0:
			kind = "a device"
		}
		return nil, fmt.Errorf("%s file %s is %s: name the file itself", what, path, kind)
	}
	if info.Size() > MaxSize {
		return nil, fmt.Errorf("%s file %s is %d MB: larger than any such file (%d MB at most)", what, path, info.Size()>>20, MaxSize>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s file %s: %v", what, path, unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s file %s: %v", what, path, unwrap(err))
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s file %s grew past %d MB as it was read", what, path, MaxSize>>20)
	}
	return data, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
