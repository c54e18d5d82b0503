package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/perfgate/perfgate/gate/config"
	"github.com/perfgate/perfgate/gate/internal/userfile"
)

// Report files are written deliberately whatever their path names:
//   - a regular file (or a new one) through a temporary file renamed into place, so that
//     a reader never sees half a report;
//   - a symbolic link is followed: the file it points to is the report (written the same
//     way, beside it), and the link stays;
//   - a character device or a named pipe (/dev/stdout, a pipe to another program) is
//     written straight into, and must be open for reading if it is a pipe;
//   - a directory, a socket or anything else is an error, found before any load (see
//     checkReportPaths).

// reportFile is a report to write to path, when path is set.
type reportFile[T any] struct {
	path  string
	write func(io.Writer, T) error
}

// writeReportFiles writes r to each file whose path is set, saying so, then publishes it
// to GitHub Actions when publish is set, and returns what could not be written, and why.
func writeReportFiles[T any](c *Command, r T, files []reportFile[T], publish func() error, out io.Writer) []string {
	var failed []string
	for _, w := range files {
		if w.path == "" {
			continue
		}
		if err := writeFile(w.path, r, w.write); err != nil {
			c.errorf("cannot write %s: %v", w.path, err)
			failed = append(failed, fmt.Sprintf("%s: %v", w.path, err))
			continue
		}
		c.say(out, "wrote %s\n", w.path)
	}
	if publish != nil {
		if err := publish(); err != nil {
			c.errorf("GitHub Actions: %v", err)
			failed = append(failed, fmt.Sprintf("GitHub Actions: %v", err))
		}
	}
	return failed
}

// writeFile writes a report to path (see above).
func writeFile[T any](path string, r T, write func(io.Writer, T) error) error {
	target, info, err := reportTarget(path)
	if err != nil {
		return err
	}
	if info != nil && info.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0 {
		return writeStraight(target, info, r, write)
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// reportTarget resolves a report path: the file a symbolic link points to (even one that
// does not exist yet), and what is there now (nil: nothing). A directory, a socket or an
// irregular file is an error.
func reportTarget(path string) (string, fs.FileInfo, error) {
	target := path
	for range 40 { // as the kernel's limit on links followed
		info, err := os.Lstat(target)
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR): // a folder of it is missing, or a file
			return target, nil, nil
		case err != nil:
			return "", nil, err
		case info.Mode()&fs.ModeSymlink != 0:
			to, err := os.Readlink(target)
			if err != nil {
				return "", nil, err
			}
			if !filepath.IsAbs(to) {
				to = filepath.Join(filepath.Dir(target), to)
			}
			target = to
			continue
		case info.Mode().IsRegular(), info.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0:
			return target, info, nil
		case info.IsDir():
			return "", nil, fmt.Errorf("%s is a directory: name a file for the report", path)
		default:
			return "", nil, fmt.Errorf("%s is not a file a report can be written to (%v)", path, info.Mode().Type())
		}
	}
	return "", nil, fmt.Errorf("%s: too many symbolic links", path)
}

// writeStraight writes a report into a device or a pipe: a pipe without a reader is an
// error at once rather than a wait forever.
func writeStraight[T any](path string, info fs.FileInfo, r T, write func(io.Writer, T) error) error {
	open := func(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
	if info.Mode()&fs.ModeNamedPipe != 0 {
		open = openPipe
	}
	f, err := open(path)
	if err != nil {
		return err
	}
	if err := write(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkReportPaths finds, before any load, what would keep a report from being
// written: two reports asked for at the same path, a path that is a directory or no
// file, or one whose folder cannot be made.
func checkReportPaths(f *runFlags) error {
	return checkPaths([]flagPath{{"--junit", f.junit}, {"--json", f.json}, {"--html", f.html}})
}

// checkPaths is checkReportPaths for any list of report files.
func checkPaths(files []flagPath) error {
	seen := map[string]string{}
	for _, r := range files {
		if r.path == "" {
			continue
		}
		target, info, err := reportTarget(r.path)
		if err != nil {
			return fmt.Errorf("%s: %v", r.flag, err)
		}
		abs, err := filepath.Abs(target)
		if err != nil {
			return fmt.Errorf("%s %s: %v", r.flag, r.path, err)
		}
		if other, dup := seen[abs]; dup && (info == nil || info.Mode().IsRegular()) {
			return fmt.Errorf("%s and %s name the same file, %s: each report needs its own", other, r.flag, r.path)
		}
		seen[abs] = r.flag
		if info == nil {
			if err := creatable(filepath.Dir(abs)); err != nil {
				return fmt.Errorf("%s %s: %v", r.flag, r.path, err)
			}
		}
	}
	return nil
}

// creatable reports whether a file can be made in dir: the nearest folder of it that
// exists must be a folder (the rest is made when the report is written).
func creatable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		switch {
		case err == nil && info.IsDir():
			return nil
		case err == nil:
			return fmt.Errorf("%s is not a folder", d)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

// userError prints an error about a user's file and, where it names a line of a file
// perfgate can read, that line with a caret under the column, as compilers do.
func (c *Command) userError(err error) {
	c.errorf("%v", err)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.File == "" || ce.Pos.Line < 1 {
		return
	}
	data, rerr := userfile.Read("config", ce.File)
	if rerr != nil {
		return // an embedded file, or one gone since
	}
	lines := strings.Split(string(data), "\n")
	if ce.Pos.Line > len(lines) {
		return
	}
	line := strings.TrimRight(lines[ce.Pos.Line-1], "\r")
	if mayHoldSecret(line) {
		return // the position is enough; an error message never shows a secret
	}
	num := strconv.Itoa(ce.Pos.Line)
	c.say(c.Stderr, "  %s | %s\n", num, line)
	if ce.Pos.Col > 0 {
		// The caret goes under the column's character, tabs kept so that it lines up.
		pad := []rune(line)[:min(ce.Pos.Col-1, len([]rune(line)))]
		for i, r := range pad {
			if r != '\t' {
				pad[i] = ' '
			}
		}
		c.say(c.Stderr, "  %s | %s^\n", strings.Repeat(" ", len(num)), string(pad))
	}
}

// secretWords are what a config line holding a credential says on its face.
var secretWords = []string{"authorization", "cookie", "password", "passwd", "token", "secret", "api-key", "api_key", "apikey", "credential"}

// mayHoldSecret reports whether a line of a user's file may hold a credential: a header
// or key named like one, or a URL with a user's part (user:password@).
func mayHoldSecret(line string) bool {
	lower := strings.ToLower(line)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	if i := strings.Index(lower, "://"); i >= 0 && strings.Contains(lower[i:], "@") {
		return true
	}
	return false
}
