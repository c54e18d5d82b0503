package load

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
)

// The generator's own failures: requests perfgate could not make because its own
// process or machine ran out of something (file descriptors, local ports, socket
// buffers, memory). They are not the target's errors: they get their own kind, the
// summaries leave them out of the target's requests, errors and latency, and the run
// that has any supports no verdict.

// generatorErrnos are the errors of the generator's own resources, with what to do.
var generatorErrnos = []struct {
	errno syscall.Errno
	say   string
}{
	{syscall.EMFILE, "perfgate ran out of file descriptors (EMFILE): raise its limit (ulimit -n) or lower the users"},
	{syscall.ENFILE, "the machine ran out of file descriptors (ENFILE): raise fs.file-max or lower the users"},
	{syscall.EADDRNOTAVAIL, "the machine ran out of local ports (EADDRNOTAVAIL): widen net.ipv4.ip_local_port_range, keep connections alive or lower the users"},
	{syscall.ENOBUFS, "the machine ran out of socket buffers (ENOBUFS): lower the users or the rate"},
	{syscall.ENOMEM, "the machine ran out of memory for sockets (ENOMEM): lower the users or the rate"},
}

// generatorFailure says which of the generator's resources err says ran out, if any.
func generatorFailure(err error) (string, bool) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return "", false
	}
	for _, g := range generatorErrnos {
		if errno == g.errno {
			return g.say, true
		}
	}
	return "", false
}

// generatorFailures counts an engine's generator failures and keeps the first's reason.
type generatorFailures struct {
	n     atomic.Int64
	once  sync.Once
	first string
}

// classify is the package's classify, noting the first generator failure's reason.
func (e *Engine) classify(err error) Kind {
	k := classify(err)
	if k == Generator {
		say, _ := generatorFailure(err)
		e.generator.once.Do(func() { e.generator.first = say })
	}
	return k
}

// record hands s to the recorder, counting it if it is a generator failure.
func (e *Engine) record(s Sample) {
	if s.Kind == Generator {
		e.generator.n.Add(1)
	}
	e.rec.Record(s)
}

// withGenerator adds the generator failures to res.
func (e *Engine) withGenerator(res Result) Result {
	res.GeneratorFailures = e.generator.n.Load()
	if res.GeneratorFailures > 0 {
		e.generator.once.Do(func() {}) // orders the read after the Do that wrote first
		res.GeneratorFailure = e.generator.first
	}
	return res
}
