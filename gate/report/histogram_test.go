package report

import (
	"math/rand/v2"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The encoder must write what the library's decoder reads back unchanged, with the
// same headers as the library's own encoding (so any HdrHistogram tool reads it).
func TestHistEncoderRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func(h *hdrhistogram.Histogram){
		"empty":        func(*hdrhistogram.Histogram) {},
		"lowest value": func(h *hdrhistogram.Histogram) { _ = h.RecordValue(1) },
		"highest value": func(h *hdrhistogram.Histogram) {
			_ = h.RecordValue(h.HighestTrackableValue())
		},
		"huge counts": func(h *hdrhistogram.Histogram) {
			_ = h.RecordValues(5000, 1<<62) // a nine-byte varint
			_ = h.RecordValues(7, 1<<40)
		},
		"latencies": func(h *hdrhistogram.Histogram) {
			for range 20000 {
				_ = h.RecordValue(int64(rng.ExpFloat64()*2000) + 100)
			}
		},
		"sparse": func(h *hdrhistogram.Histogram) {
			for range 300 {
				_ = h.RecordValues(rng.Int64N(60_000_000)+1, rng.Int64N(1000)+1)
			}
		},
	}
	enc := &histEncoder{} // one encoder for all cases: reuse must not leak state
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			h := hdrhistogram.New(1, 61_000_000, 3)
			fill(h)
			want, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				t.Fatal(err)
			}
			got, err := enc.encode(h)
			if err != nil {
				t.Fatal(err)
			}
			// The first five base64 characters ("HISTF") carry the format's cookie.
			if got[:5] != string(want[:5]) {
				t.Fatalf("header %.12s, the library writes %.12s", got, want)
			}
			back, err := hdrhistogram.Decode([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equals(h) {
				t.Fatalf("round trip changed the histogram: %d values, max %d; want %d, %d",
					back.TotalCount(), back.Max(), h.TotalCount(), h.Max())
			}
		})
	}
}

func BenchmarkHistEncode(b *testing.B) {
	h := hdrhistogram.New(1, 61_000_000, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		_ = h.RecordValue(int64(rng.ExpFloat64()*2000) + 100)
	}
	b.Run("perfgate", func(b *testing.B) {
		enc := &histEncoder{}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := enc.encode(h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err != nil {
				b.Fatal(err)
			}
		}
	})
}
