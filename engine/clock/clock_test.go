package clock

import (
	"testing"
	"time"
)

func TestFakeAfterFiresOnlyWhenAdvancedPastDeadline(t *testing.T) {
	f := NewFake(time.Unix(1000, 0))
	ch := f.After(10 * time.Second)
	f.Advance(9 * time.Second)
	select {
	case <-ch:
		t.Fatal("fired 1s early")
	default:
	}
	f.Advance(time.Second)
	select {
	case got := <-ch:
		if !got.Equal(time.Unix(1010, 0)) {
			t.Fatalf("fired at %v, want 1010s", got.Unix())
		}
	default:
		t.Fatal("did not fire at its deadline")
	}
	if f.Waiters() != 0 {
		t.Fatalf("%d waiters left after a one-shot fired", f.Waiters())
	}
}

func TestFakeTickerTicksAndStops(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tk := f.NewTicker(time.Second)
	for i := 1; i <= 3; i++ {
		f.Advance(time.Second)
		select {
		case got := <-tk.C():
			if got.Unix() != int64(i) {
				t.Fatalf("tick %d at %ds", i, got.Unix())
			}
		default:
			t.Fatalf("tick %d missing", i)
		}
	}
	tk.Stop()
	f.Advance(time.Second)
	select {
	case <-tk.C():
		t.Fatal("ticked after Stop")
	default:
	}
}

func TestFakeAfterNonPositiveFiresAtOnce(t *testing.T) {
	f := NewFake(time.Unix(5, 0))
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
}

func TestFakeTimersAtCountsOneShotsDueAtThatInstant(t *testing.T) {
	f := NewFake(time.Unix(1000, 0))
	f.After(5 * time.Second)
	f.After(5 * time.Second)
	f.After(6 * time.Second)
	f.NewTicker(5 * time.Second) // a ticker is not a one-shot timer
	if n := f.TimersAt(5 * time.Second); n != 2 {
		t.Fatalf("TimersAt(5s) = %d, want 2", n)
	}
	f.Advance(time.Second)
	if n := f.TimersAt(4 * time.Second); n != 2 {
		t.Fatalf("a second on, TimersAt(4s) = %d, want 2", n)
	}
	f.Advance(4 * time.Second)
	if n, m := f.TimersAt(0), f.TimersAt(time.Second); n != 0 || m != 1 {
		t.Fatalf("after the 5s timers fired: TimersAt(0) = %d, TimersAt(1s) = %d; want 0 and 1", n, m)
	}
}
