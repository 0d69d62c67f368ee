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
