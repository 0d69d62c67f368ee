package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// ring keeps the last cap values of a series, oldest first.
type ring[T any] struct {
	buf   []T
	start int
	n     int
}

// newRing returns a ring holding up to size values.
func newRing[T any](size int) ring[T] { return ring[T]{buf: make([]T, size)} }

// push adds v, forgetting the oldest value when full.
func (r *ring[T]) push(v T) {
	if len(r.buf) == 0 {
		return
	}
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// last returns the newest n values (fewer if fewer are held), oldest first.
func (r *ring[T]) last(n int) []T {
	n = min(n, r.n)
	out := make([]T, n)
	for i := range out {
		out[i] = r.buf[(r.start+r.n-n+i)%len(r.buf)]
	}
	return out
}

// blocks are the eighths of a cell, from one eighth to full.
var blocks = []string{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"}

// sparkline draws vals as a bar chart rows high and width cells wide, the
// newest value at the right edge, scaled so that top is a full column. A
// non-zero value always shows at least one eighth. class picks each column's
// style from palette, so a bar past a threshold changes colour; the caller
// shows the threshold in words too.
func sparkline(vals []int, width, rows, top int, class func(int) int, palette []lipgloss.Style) []string {
	if width <= 0 || rows <= 0 {
		return nil
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	top = max(top, 1)
	pad := width - len(vals)
	eighths := make([]int, len(vals))
	classes := make([]int, len(vals))
	for i, v := range vals {
		e := v * rows * 8 / top
		if v > 0 && e == 0 {
			e = 1
		}
		eighths[i] = min(e, rows*8)
		classes[i] = class(v)
	}
	out := make([]string, rows)
	var b, run strings.Builder
	for r := 0; r < rows; r++ {
		b.Reset()
		b.WriteString(strings.Repeat(" ", pad))
		base := (rows - 1 - r) * 8
		runClass := -1 // -1: blank cells, unstyled
		flush := func() {
			if run.Len() == 0 {
				return
			}
			if runClass >= 0 {
				b.WriteString(palette[runClass].Render(run.String()))
			} else {
				b.WriteString(run.String())
			}
			run.Reset()
		}
		for i, e := range eighths {
			c := e - base
			glyph, cls := " ", -1
			switch {
			case c >= 8:
				glyph, cls = blocks[7], classes[i]
			case c > 0:
				glyph, cls = blocks[c-1], classes[i]
			}
			if cls != runClass {
				flush()
				runClass = cls
			}
			run.WriteString(glyph)
		}
		flush()
		out[r] = b.String()
	}
	return out
}
