package tui

import (
	"strconv"
	"strings"

	"grace/engine/intent"
)

// intentList is a list of intents with a cursor and a "/" filter: each
// section of the Approvals screen is one. The cursor indexes the rows the
// filter lets through.
type intentList struct {
	items    []intent.Intent
	shown    []int // indexes into items that pass the filter, in order
	filter   string
	cursor   int
	offset   int
	loaded   bool
	fetching bool
	// failed is why the last fetch failed ("" when it did not): a list
	// never fetched says so rather than "loading…" for ever.
	failed string
	// want is an intent to select once a fetch lists it.
	want string
}

// len is the number of rows shown.
func (l *intentList) len() int { return len(l.shown) }

// at returns the i-th row shown.
func (l *intentList) at(i int) intent.Intent { return l.items[l.shown[i]] }

// selected returns the intent under the cursor.
func (l *intentList) selected() (intent.Intent, bool) {
	if l.cursor < 0 || l.cursor >= len(l.shown) {
		return intent.Intent{}, false
	}
	return l.at(l.cursor), true
}

// move shifts the cursor by n rows, within the list.
func (l *intentList) move(n int) {
	l.cursor = min(max(l.cursor+n, 0), max(len(l.shown)-1, 0))
}

// setItems replaces the list, keeping the cursor on the same intent when it
// is still there. It returns the ID of the selected intent when that one
// is gone.
func (l *intentList) setItems(items []intent.Intent) (lost string) {
	var keep string
	if it, ok := l.selected(); ok {
		keep = it.ID
	}
	if l.want != "" {
		keep, l.want = l.want, ""
	}
	l.items, l.loaded = items, true
	if !l.refilter(keep) && keep != "" {
		return keep
	}
	return ""
}

// setFilter filters the rows by text (every word must appear in the
// intent's ID, type, actor, state or reasons, in any case), keeping the
// cursor on the same intent when it still shows.
func (l *intentList) setFilter(text string) {
	var keep string
	if it, ok := l.selected(); ok {
		keep = it.ID
	}
	l.filter = strings.TrimSpace(text)
	l.refilter(keep)
}

// refilter recomputes the rows shown and puts the cursor on keep when it
// shows (reporting whether it does), else keeps the cursor's position.
func (l *intentList) refilter(keep string) bool {
	words := strings.Fields(strings.ToLower(l.filter))
	l.shown = l.shown[:0]
	for i := range l.items {
		if len(words) == 0 || matchesAll(intentText(l.items[i]), words) {
			l.shown = append(l.shown, i)
		}
	}
	for i, idx := range l.shown {
		if l.items[idx].ID == keep {
			l.cursor = i
			return true
		}
	}
	l.cursor = min(l.cursor, max(len(l.shown)-1, 0))
	return false
}

// intentText is what the filter searches in an intent, lower-cased.
func intentText(it intent.Intent) string {
	var b strings.Builder
	for _, s := range []string{it.ID, it.Type, it.Actor, string(it.State), it.Worker, it.DecidedBy} {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	for _, r := range it.Decision.Reasoning {
		b.WriteString(r)
		b.WriteByte(' ')
	}
	return strings.ToLower(b.String())
}

// matchesAll reports whether every word occurs in text.
func matchesAll(text string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// focusOn selects intent id when it is shown, and otherwise once the next
// fetch lists it. A filter that would hide it is cleared.
func (l *intentList) focusOn(id string) {
	if l.filter != "" {
		l.setFilter("")
	}
	for i := range l.shown {
		if l.at(i).ID == id {
			l.cursor = i
			return
		}
	}
	l.want = id
}

// remove drops intent id from the list at once, before the refetch lands,
// and reports whether it was listed.
func (l *intentList) remove(id string) bool {
	for i := range l.items {
		if l.items[i].ID == id {
			items := append(append([]intent.Intent(nil), l.items[:i]...), l.items[i+1:]...)
			l.setItems(items)
			return true
		}
	}
	return false
}

// knows reports whether id is in the list (shown or filtered out).
func (l *intentList) knows(id string) bool {
	for i := range l.items {
		if l.items[i].ID == id {
			return true
		}
	}
	return false
}

// window returns the first row to show so that the cursor stays within
// rows rows, given the first row shown before.
func window(cursor, offset, n, rows int) int {
	rows = max(rows, 1)
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+rows {
		offset = cursor - rows + 1
	}
	return max(min(offset, n-rows), 0)
}

// listRows splits room lines of a list of n rows: it returns how many
// rows to show and whether the last line is kept for a scrollHint (when
// the rows do not all fit). Keeping that line apart means the hint never
// covers a row, the cursor's least of all.
func listRows(n, room int) (rows int, scrolls bool) {
	room = max(room, 1)
	if n <= room || room < 2 {
		return room, false
	}
	return room - 1, true
}

// scrollHint says how many rows of a scrolled list are out of view above
// and below.
func scrollHint(above, below int) string {
	var parts []string
	if above > 0 {
		parts = append(parts, "↑ "+strconv.Itoa(above)+" above")
	}
	if below > 0 {
		parts = append(parts, "↓ "+strconv.Itoa(below)+" more")
	}
	return strings.Join(parts, " · ")
}
