package watchdog

import (
	"strings"
	"testing"
	"time"
)

// feed records perSecond events a second from *now for d, badPer100 of
// every 100 of them bad, moving *now along.
func feed(s *SLO, now *time.Time, d time.Duration, perSecond, badPer100 int) {
	step := time.Second / time.Duration(perSecond)
	for end := now.Add(d); now.Before(end); *now = now.Add(step) {
		n := int(now.Sub(epoch)/step) % 100
		s.Record(*now, n*badPer100%100 >= badPer100) // bad events spread evenly
	}
}

func TestBurnRateWindowsScaleWithThePeriod(t *testing.T) {
	t.Parallel()
	st := NewSLO("x", "c", "", 0.99, 30*24*time.Hour).Status(epoch)
	want := []time.Duration{time.Hour, 5 * time.Minute, 6 * time.Hour, 30 * time.Minute, 24 * time.Hour, 2 * time.Hour, 72 * time.Hour, 6 * time.Hour}
	for i, w := range st.Windows {
		if w.Window != want[i] {
			t.Fatalf("window %d = %v, want %v", i, w.Window, want[i])
		}
	}
	st = NewSLO("x", "c", "", 0.99, time.Hour).Status(epoch)
	if st.Windows[0].Window != 5*time.Second || st.Windows[7].Window != 30*time.Second || st.Status != OK {
		t.Fatalf("1h period: %+v", st)
	}
}

// A fast burn pages (critical) once both its windows burn past 14.4×; a
// slow burn only makes a ticket (warn); when the bad events stop, the short
// window ends the alert long before the long one forgets.
func TestMultiWindowBurnRate(t *testing.T) {
	t.Parallel()
	s := NewSLO("dispatch_latency", "scheduler", "99% within 5s", 0.99, time.Hour) // 1h long window → 5s
	now := epoch
	feed(s, &now, 10*time.Minute, 20, 0)
	if st := s.Status(now); st.Status != OK || st.Good != 12000 || st.Bad != 0 {
		t.Fatalf("all good: %+v", st)
	}

	feed(s, &now, 10*time.Second, 200, 25) // 25% bad: 25× the 1% budget
	st := s.Status(now)
	if st.Status != Critical || !strings.Contains(st.Reason, "alert at 14.4×: 2% of the 1h budget in 5s") || st.Windows[0].BurnRate < 24 {
		t.Fatalf("fast burn: %s %q %+v", st.Status, st.Reason, st.Windows[:2])
	}

	feed(s, &now, 2*time.Second, 200, 0) // the short window (0.42 s) is clean again
	if st := s.Status(now); st.Status == Critical {
		t.Fatalf("still paging once the burn stopped: %q", st.Reason)
	}

	s = NewSLO("intake_errors", "htm", "", 0.99, time.Hour)
	now = epoch
	feed(s, &now, 7*time.Minute, 20, 2) // 2% bad: 2×, past the 1× 3d/6h ticket only
	st = s.Status(now)
	if st.Status != Warn || !strings.Contains(st.Reason, "alert at 1.0×") {
		t.Fatalf("slow burn: %s %q", st.Status, st.Reason)
	}
}

// Recording is cheap enough for the engine's hot paths.
func BenchmarkSLORecord(b *testing.B) {
	s := NewSLO("x", "c", "", 0.99, 720*time.Hour)
	now := epoch
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Record(now.Add(time.Duration(i)*time.Millisecond), i%100 != 0)
	}
}
