package htm

import (
	"slices"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestParseCriteria(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, canon string
	}{
		{"priority<5 and age>10m", "priority<5 and age>10m0s"},
		{"  Priority <= 3  AND age >= 90s and tier!=4 ", "priority<=3 and age>=1m30s and tier!=4"},
		{"type=query_knowledge and actor != 'agent.x'", "type=query_knowledge and actor!=agent.x"},
		{"attempts==2", "attempts=2"},
	} {
		c, err := ParseCriteria(tc.in)
		if err != nil {
			t.Fatalf("ParseCriteria(%q): %v", tc.in, err)
		}
		if got := c.String(); got != tc.canon {
			t.Errorf("ParseCriteria(%q) = %q, want %q", tc.in, got, tc.canon)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"priority<5 and", "missing"},
		{"and age>1m", "missing"},
		{"colour=red", "unknown field"},
		{"priority<five", "whole number"},
		{"age>10min", "duration"},
		{"type<x", "= or !="},
		{"priority 5", "no comparison"},
		{"priority<", "no value"},
	} {
		if _, err := ParseCriteria(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseCriteria(%q) = %v, want an error saying %q", tc.in, err, tc.want)
		}
	}
}

func TestCriteriaMatch(t *testing.T) {
	t.Parallel()
	c, err := ParseCriteria("priority<5 and age>10m")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		it   intent.Intent
		want bool
	}{
		{item("stale-low", 4, 11*time.Minute), true},
		{item("fresh-low", 4, 9*time.Minute), false},
		{item("exactly-10m", 4, 10*time.Minute), false},
		{item("stale-high", 5, time.Hour), false},
		{scheduled("scheduled-ahead", 4, time.Hour, time.Hour), false},
		{scheduled("due-9m-ago", 4, time.Hour, -9*time.Minute), false},
		{scheduled("due-11m-ago", 4, time.Hour, -11*time.Minute), true},
		{scheduled("not-before-submission", 4, 11*time.Minute, -time.Hour), true},
	} {
		if got := c.Match(tc.it, t0); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.it.ID, got, tc.want)
		}
	}
	if (Criteria{}).Match(item("x", 0, time.Hour), t0) {
		t.Error("the zero Criteria matched")
	}
}

// scheduled is an intent submitted age before t0 that may run from
// t0+due.
func scheduled(id string, prio int, age, due time.Duration) intent.Intent {
	it := item(id, prio, age)
	it.NotBefore = t0.Add(due)
	return it
}

func TestShedTakesLowestPriorityOldestFirst(t *testing.T) {
	t.Parallel()
	q := mustNew(t, 100, 10, 20)
	for _, it := range []intent.Intent{
		item("p3-new", 3, 20*time.Minute),
		item("p1-old", 1, time.Hour),
		item("p1-new", 1, 15*time.Minute),
		item("p9-old", 9, time.Hour),
		item("p3-fresh", 3, time.Minute),
	} {
		if err := q.Push(it); err != nil {
			t.Fatal(err)
		}
	}
	// Age counts from when an intent was due: one scheduled an hour ahead
	// is not old however long ago it was submitted, one due 30 minutes ago
	// is older than one submitted 20 minutes ago.
	for _, d := range []struct {
		id        string
		prio      int
		submitted time.Duration
		due       time.Duration // from t0
	}{
		{"p2-delayed", 2, time.Hour, time.Hour},
		{"p2-just-due", 2, 3 * time.Hour, -5 * time.Minute},
		{"p3-was-scheduled", 3, 2 * time.Hour, -30 * time.Minute},
	} {
		it := item(d.id, d.prio, d.submitted)
		it.NotBefore = t0.Add(d.due)
		q.Requeue(it)
	}

	c, _ := ParseCriteria("priority<5 and age>10m")
	match := func(it intent.Intent) bool { return c.Match(it, t0) }
	var ids []string
	for _, it := range q.Shed(match, 3) {
		ids = append(ids, it.ID)
	}
	if want := []string{"p1-old", "p1-new", "p3-was-scheduled"}; !slices.Equal(ids, want) {
		t.Fatalf("first batch shed %v, want %v", ids, want)
	}
	ids = ids[:0]
	for _, it := range q.Shed(match, 10) {
		ids = append(ids, it.ID)
	}
	if want := []string{"p3-new"}; !slices.Equal(ids, want) {
		t.Fatalf("second batch shed %v, want %v", ids, want)
	}
	if got := drain(q, t0.Add(2*time.Hour)); !slices.Equal(got, []string{"p9-old", "p3-fresh", "p2-just-due", "p2-delayed"}) {
		t.Fatalf("left in the queue: %v", got)
	}
	if q.Shed(func(intent.Intent) bool { return true }, 0) != nil {
		t.Fatal("Shed with max 0 removed something")
	}
}
