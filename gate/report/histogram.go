package report

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/perfgate/perfgate/gate/stats"
)

// The V2 encoding of HdrHistogram (the format of every HdrHistogram library: Java, C,
// Go, Rust): a 40-byte header and the counts as ZigZag LEB128 varints, a run of zeros
// written as one negative number; then zlib, an 8-byte header, and base64.
const (
	v2Cookie           = hdrhistogram.V2EncodingCookieBase | 0x10
	v2CompressedCookie = hdrhistogram.V2CompressedEncodingCookieBase | 0x10
	v2HeaderSize       = 40
)

// histEncoder writes histograms in the V2 compressed encoding that hdrhistogram's
// Encode writes and every HdrHistogram decoder reads. Encode allocates a new zlib
// compressor at its best compression (about 700 KB, all of it touched) for every
// histogram, and a result holds several: at the end of a run that was most of
// perfgate's peak memory. This keeps one compressor at its fastest level (small tables;
// the counts of a latency histogram compress well at any level) and resets it between
// histograms.
type histEncoder struct {
	zw  *zlib.Writer
	raw []byte
	z   bytes.Buffer
}

// encode returns h in the V2 compressed encoding, base64.
func (e *histEncoder) encode(h *hdrhistogram.Histogram) (string, error) {
	s := h.Export()
	raw, next := e.start(), int32(0)
	limit := len(s.Counts) // past the last non-zero count: most of a latency histogram is above its maximum
	for limit > 0 && s.Counts[limit-1] == 0 {
		limit--
	}
	for i, n := range s.Counts[:limit] {
		if n != 0 {
			raw, next = appendCount(raw, next, int32(i), n)
		}
	}
	return e.finish(raw, next, s.LowestTrackableValue, s.HighestTrackableValue, s.SignificantFigures)
}

// encodeCompact returns a compact histogram in the V2 compressed encoding, base64: the
// same bytes as its full histogram's.
func (e *histEncoder) encodeCompact(c stats.Hist) (string, error) {
	raw, next := e.start(), int32(0)
	for k, idx := range c.Index {
		raw, next = appendCount(raw, next, idx, c.Count[k])
	}
	return e.finish(raw, next, c.Lowest, c.Highest, c.SigFigs)
}

// start begins the encoding's uncompressed bytes: room for the header, then the counts.
func (e *histEncoder) start() []byte { return append(e.raw[:0], make([]byte, v2HeaderSize)...) }

// appendCount writes the count n at index idx, given the non-zero counts in ascending
// order, next being the first index not written yet; as the library does, a run of zeros
// before it is one negative number, a single zero a zero.
func appendCount(raw []byte, next, idx int32, n int64) ([]byte, int32) {
	if zeros := int64(idx - next); zeros == 1 {
		raw = appendZigZag(raw, 0)
	} else if zeros > 1 {
		raw = appendZigZag(raw, -zeros)
	}
	return appendZigZag(raw, n), idx + 1
}

// finish writes the header of a histogram of the given settings before its counts (up
// to the one holding the maximum, at least one), compresses it all and returns it in
// base64.
func (e *histEncoder) finish(raw []byte, next int32, lowest, highest, sigFigs int64) (string, error) {
	if next == 0 {
		raw = appendZigZag(raw, 0)
	}
	be := binary.BigEndian
	be.PutUint32(raw[0:], uint32(v2Cookie))
	be.PutUint32(raw[4:], uint32(len(raw)-v2HeaderSize))
	be.PutUint32(raw[8:], 1) // normalizing index offset, as the library writes it
	be.PutUint32(raw[12:], uint32(sigFigs))
	be.PutUint64(raw[16:], uint64(lowest))
	be.PutUint64(raw[24:], uint64(highest))
	be.PutUint64(raw[32:], math.Float64bits(1)) // integer-to-double conversion ratio
	e.raw = raw

	e.z.Reset()
	e.z.Write(make([]byte, 8)) // cookie and length, filled in below
	if e.zw == nil {
		zw, err := zlib.NewWriterLevel(&e.z, zlib.BestSpeed)
		if err != nil {
			return "", err
		}
		e.zw = zw
	} else {
		e.zw.Reset(&e.z)
	}
	if _, err := e.zw.Write(raw); err != nil {
		return "", err
	}
	if err := e.zw.Close(); err != nil {
		return "", err
	}
	out := e.z.Bytes()
	be.PutUint32(out[0:], uint32(v2CompressedCookie))
	be.PutUint32(out[4:], uint32(len(out)-8))
	return base64.StdEncoding.EncodeToString(out), nil
}

// appendZigZag appends v as a ZigZag LEB128 varint of at most 9 bytes (the ninth
// carries 8 bits), the "LEB128-64b9B" of the HdrHistogram format.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}
