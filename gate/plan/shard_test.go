package plan

import (
	"strings"
	"testing"
)

// TestForShardSharesTheLoad: the shards' users add up to the plan's, the first Users mod
// Of taking one more, each with a ramp as long as the whole one (a shard of one user
// settles it instead); an open model's max_in_flight is shared so, its rate not (each
// shard sends its own arrivals of the one schedule). Every shard has the whole plan's
// digest.
func TestForShardSharesTheLoad(t *testing.T) {
	p, err := build(t, "target: http://h\nload: {users: 10, spawn_rate: 1, duration: 1m}\ntasks: [{path: /}]\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	whole, ramp := p.Load, p.Load.Ramp()
	sum := 0
	for i, want := range []int{4, 3, 3} {
		q, err := p.ForShard(Shard{Index: i, Of: 3})
		if err != nil {
			t.Fatal(err)
		}
		l := q.Phases[0].Load
		sum += l.Users
		if l.Users != want || l.Ramp()+l.Settle != ramp || q.Load != l || l.Hold != whole.Hold || q.Shard.Index != i {
			t.Errorf("shard %d: %d users, ramp %v + settle %v; want %d users and the whole ramp %v", i, l.Users, l.Ramp(), l.Settle, want, ramp)
		}
		if q.Digest() != p.Digest() {
			t.Errorf("shard %d: digest %s, the plan's %s", i, q.Digest(), p.Digest())
		}
	}
	if sum != whole.Users || p.Load != whole {
		t.Errorf("%d users in all, want %d; the plan itself unchanged", sum, whole.Users)
	}
	// Ten shards of ten users: one each, started at once, settling the whole ramp.
	q, err := p.ForShard(Shard{Index: 9, Of: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l := q.Load; l.Users != 1 || l.Settle != ramp {
		t.Errorf("one user: %+v, want it to settle %v", l, ramp)
	}

	o, err := build(t, "target: http://h\nload: {rate: 100/s, max_in_flight: 10, duration: 1m}\ntasks: [{path: /}]\n", "all: [p99 < 1s]\n")
	if err != nil {
		t.Fatal(err)
	}
	q, err = o.ForShard(Shard{Index: 3, Of: 4})
	if err != nil {
		t.Fatal(err)
	}
	if l := q.Load; l.Rate != 100 || l.MaxInFlight != 2 {
		t.Errorf("open shard: rate %v, max_in_flight %d; want the schedule's rate and 2", l.Rate, l.MaxInFlight)
	}

	for _, tc := range []struct {
		cfg  string
		sh   Shard
		want string
	}{
		{"load: {users: 2, duration: 1m}", Shard{Index: 2, Of: 3}, "2 users are fewer than the 3 shards"},
		{"load: {users: 20, duration: 1m, max_duration: 5m}", Shard{Index: 0, Of: 3}, "load.max_duration does not go with shards"},
		{"load: {users: 20, duration: 1m}", Shard{Index: 3, Of: 3}, "shard 4 of 3"},
	} {
		p, err := build(t, "target: http://h\n"+tc.cfg+"\ntasks: [{path: /}]\n", "all: [p99 < 1s]\n")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.ForShard(tc.sh); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s, %v: %v, want %q", tc.cfg, tc.sh, err, tc.want)
		}
	}
}

// TestShardsShareTheScheduleExactly: for 1 to 32 shards, every arrival of any span of
// the schedule is one shard's, and exactly one's.
func TestShardsShareTheScheduleExactly(t *testing.T) {
	for of := 1; of <= 32; of++ {
		for _, span := range [][2]int64{{0, 0}, {0, 1}, {0, 1000}, {7, 1000}, {999, 1000}, {5, 3}, {123, 4567}} {
			var sum int64
			for i := range of {
				sum += Shard{Index: i, Of: of}.ShareOf(span[0], span[1])
			}
			if want := max(0, span[1]-span[0]); sum != want {
				t.Errorf("%d shards, arrivals [%d, %d): %d in all, want %d", of, span[0], span[1], sum, want)
			}
		}
	}
	// Shard 2 of 3 sends arrivals 1, 4, 7: three of [0, 9), one of [4, 6).
	if s := (Shard{Index: 1, Of: 3}); s.ShareOf(0, 9) != 3 || s.ShareOf(4, 6) != 1 || s.ShareOf(5, 7) != 0 {
		t.Errorf("shard 2 of 3: %d, %d, %d", s.ShareOf(0, 9), s.ShareOf(4, 6), s.ShareOf(5, 7))
	}
}

// TestDigestSeesTheLoadAndTheRules: another load, request or rule changes the digest;
// a header value (which may be a secret) does not enter it.
func TestDigestSeesTheLoadAndTheRules(t *testing.T) {
	base := "target: http://h\nload: {users: 10, duration: 1m}\ntasks: [{path: /a, headers: {Authorization: Bearer one}}]\n"
	digest := func(cfg, th string) string {
		p, err := build(t, cfg, th)
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest()
	}
	d := digest(base, "all: [p99 < 1s]\n")
	for name, other := range map[string]string{
		"users": digest(strings.Replace(base, "users: 10", "users: 11", 1), "all: [p99 < 1s]\n"),
		"hold":  digest(strings.Replace(base, "1m", "2m", 1), "all: [p99 < 1s]\n"),
		"path":  digest(strings.Replace(base, "/a", "/b", 1), "all: [p99 < 1s]\n"),
		"rule":  digest(base, "all: [p99 < 2s]\n"),
	} {
		if other == d {
			t.Errorf("another %s, the same digest", name)
		}
	}
	if digest(strings.Replace(base, "Bearer one", "Bearer two", 1), "all: [p99 < 1s]\n") != d {
		t.Error("a header's value changed the digest")
	}
	if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+32 {
		t.Errorf("digest %q", d)
	}
}
