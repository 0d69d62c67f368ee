package tui

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestWorkerStripCountsTheWorkersItCannotDraw: on a terminal too narrow
// for one glyph per worker, the pool line's "+N" is how many are not
// drawn, never more workers than the pool has (at 40 columns it said +7
// for a pool of 6, drawing none).
func TestWorkerStripCountsTheWorkersItCannotDraw(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := len(b.m.pc.snap.Workers)
	moreRe := regexp.MustCompile(`\+(\d+)`)
	for _, w := range []int{40, 44, 48, 80} {
		b.send(tea.WindowSizeMsg{Width: w, Height: 24})
		l := lineWith(b.view(), "pool")
		if l == "" {
			t.Fatalf("at %d columns no pool line:\n%s", w, b.view())
		}
		drawn := strings.Count(l, "■") + strings.Count(l, "□")
		more := 0
		if m := moreRe.FindStringSubmatch(l); m != nil {
			more, _ = strconv.Atoi(m[1])
		}
		if drawn+more != n {
			t.Errorf("at %d columns %d workers drawn and +%d, for a pool of %d:\n%s", w, drawn, more, n, l)
		}
	}
}
