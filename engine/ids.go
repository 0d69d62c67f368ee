package engine

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is the base32 alphabet of ULIDs: no I, L, O or U, and it sorts
// in the same order as the bytes it encodes.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idGen makes intent IDs: "int_" and a ULID (48-bit millisecond time, then
// 80 random bits, 26 characters). IDs sort by creation time; within one
// millisecond, or if the clock steps back, the random part is incremented,
// so IDs from one generator are strictly increasing.
type idGen struct {
	mu     sync.Mutex
	lastMS uint64
	hi     uint16 // top 16 random bits
	lo     uint64 // low 64 random bits
}

// next returns a fresh ID for an intent created at now.
func (g *idGen) next(now time.Time) string {
	ms := uint64(max(now.UnixMilli(), 0))
	g.mu.Lock()
	if ms > g.lastMS {
		var b [10]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
		g.lastMS = ms
		g.hi = binary.BigEndian.Uint16(b[:2])
		g.lo = binary.BigEndian.Uint64(b[2:])
	} else {
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	}
	ms, hi, lo := g.lastMS, g.hi, g.lo
	g.mu.Unlock()

	var raw [16]byte
	raw[0], raw[1], raw[2], raw[3], raw[4], raw[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	binary.BigEndian.PutUint16(raw[6:8], hi)
	binary.BigEndian.PutUint64(raw[8:], lo)
	return "int_" + encodeULID(raw)
}

// encodeULID writes 128 bits as 26 Crockford base32 characters, most
// significant first (the first character carries only 3 bits).
func encodeULID(raw [16]byte) string {
	hi := binary.BigEndian.Uint64(raw[:8])
	lo := binary.BigEndian.Uint64(raw[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
