package hostload

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParsePressure(t *testing.T) {
	good := "some avg10=33.89 avg60=10.67 avg300=13.50 total=1156763336\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	if got, err := parsePressure([]byte(good)); err != nil || got != 1156763336*time.Microsecond {
		t.Errorf("parsePressure = %v, %v", got, err)
	}
	for _, bad := range []string{
		"", "full avg10=0.00 total=0\n", "some avg10=1.00\n", "some total=-5\n", "some total=x\n",
		"some total=99999999999999999999\n",
	} {
		if got, err := parsePressure([]byte(bad)); err == nil {
			t.Errorf("parsePressure(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseStat(t *testing.T) {
	tick := 10 * time.Millisecond
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, idle, steal, err := parseStat([]byte("cpu  100 1 20 500 5 2 3 7 40 0\ncpu0 1 2 3 4\n"), tick)
	if err != nil || busy != 126*tick || idle != 505*tick || steal != 7*tick {
		t.Errorf("parseStat = %v %v %v %v, want 1.26s 5.05s 70ms", busy, idle, steal, err)
	}
	// A kernel that stops before steal.
	if busy, idle, steal, err := parseStat([]byte("cpu 1 2 3 4\n"), tick); err != nil || busy != 6*tick || idle != 4*tick || steal != 0 {
		t.Errorf("short line: %v %v %v %v", busy, idle, steal, err)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 x 4\n", "cpu 1 2\n", "cpu 1 2 3 99999999999999999999\n"} {
		if _, _, _, err := parseStat([]byte(bad), tick); err == nil {
			t.Errorf("parseStat(%q): want an error", bad)
		}
	}
}

func TestParseSchedstat(t *testing.T) {
	if got, n, err := parseSchedstat([]byte("614603725 521107688 1815\n")); err != nil || got != 521107688 || n != 1815 {
		t.Errorf("parseSchedstat = %v, %d, %v", got, n, err)
	}
	for _, bad := range []string{"", "12\n", "1 2\n", "1 x 3\n", "1 -2 3\n", "1 2 x\n"} {
		if got, _, err := parseSchedstat([]byte(bad)); err == nil {
			t.Errorf("parseSchedstat(%q) = %v, want an error", bad, got)
		}
	}
}

func TestUsageAddsAndShares(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := time.Second
	c0 := Counters{At: at, Pressure: 10 * s, HasPressure: true, Busy: 100 * s, Idle: 100 * s, Steal: s, HasStat: true, Self: 5 * s, Wait: s, HasWait: true}
	// 10 s on 2 processors: 20 s of processor time, 12 busy of which perfgate 2, 1 stolen.
	c1 := Counters{At: at.Add(10 * s), Pressure: 13 * s, HasPressure: true, Busy: 112 * s, Idle: 107 * s, Steal: 2 * s, HasStat: true, Self: 7 * s,
		Wait: 1500 * time.Millisecond, HasWait: true}
	// 10 s more, quiet.
	c2 := Counters{At: at.Add(20 * s), Pressure: 13 * s, HasPressure: true, Busy: 114 * s, Idle: 125 * s, Steal: 2 * s, HasStat: true, Self: 8 * s,
		Wait: 1500 * time.Millisecond, HasWait: true}
	a, b := Between(c0, c1), Between(c1, c2)
	if got := a.Shares(); !got.HasPressure || !got.HasStat || !got.HasWait || got.Pressure != 0.3 || got.Steal != 0.05 || got.Others != 0.5 || got.Self != 0.1 || got.Wait != 0.05 {
		t.Errorf("busy window: %+v", got)
	}
	all := a.Add(b)
	if all != Between(c0, c2) {
		t.Errorf("windows add to %+v, the run's is %+v", all, Between(c0, c2))
	}
	if got := all.Shares(); got.Pressure != 0.15 || got.Others != 11.0/40 || got.Wait != 0.025 {
		t.Errorf("run: %+v", got)
	}
	// A figure missing at either end is left out, never read as zero contention.
	if got := Between(Counters{At: at}, c1).Shares(); got.HasPressure || got.HasStat || got.HasWait {
		t.Errorf("without figures: %+v", got)
	}
	// Counters that went back (a reset) give nothing negative.
	if got := Between(c1, c0); got.Wall != 0 || got.Pressure != 0 || got.Busy != 0 || got.Self != 0 {
		t.Errorf("backwards: %+v", got)
	}
}

func TestReadOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the figures come from Linux's /proc")
	}
	a := Read()
	_, err := os.ReadFile("/proc/pressure/cpu")
	if a.HasPressure != (err == nil) || !a.HasStat || !a.HasWait {
		t.Fatalf("Read = %+v (pressure file: %v)", a, err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	u := Between(a, Read())
	if u.Wall <= 0 || u.Busy+u.Idle+u.Steal <= 0 || u.Self > u.Busy {
		t.Errorf("usage over a busy 50 ms: %+v", u)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("some avg10=1.00 avg60=0.50 avg300=0.10 total=123\n"))
	f.Add([]byte("cpu  100 1 20 500 5 2 3 7 40 0\n"))
	f.Add([]byte("614603725 521107688 1815\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := parsePressure(b); err == nil && p < 0 {
			t.Errorf("pressure %v", p)
		}
		if busy, idle, steal, err := parseStat(b, 10*time.Millisecond); err == nil && (busy < 0 || idle < 0 || steal < 0) {
			t.Errorf("stat %v %v %v", busy, idle, steal)
		}
		if w, _, err := parseSchedstat(b); err == nil && w < 0 {
			t.Errorf("schedstat %v", w)
		}
	})
}
