package chaos

import (
	"testing"
	"time"
	_ "time/tzdata" // the test's zone, whatever the machine has
)

// Each slot runs once a day in the clock's local time, daylight-saving
// changes included.
func TestSlotsAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		from time.Time
		want []string // the next day's slot times, in order
	}{
		// 02:00 does not exist on 29 March: the slot happens at 03:00.
		{"spring forward", time.Date(2026, 3, 29, 0, 30, 0, 0, berlin),
			[]string{"03:00", "08:00", "12:00", "18:00", "23:00"}},
		// 02:00 happens twice on 25 October: the slot runs once (at
		// whichever of the two time.Date picks).
		{"fall back", time.Date(2026, 10, 25, 0, 30, 0, 0, berlin),
			[]string{"02:00", "08:00", "12:00", "18:00", "23:00"}},
		{"UTC", time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC),
			[]string{"02:00", "08:00", "12:00", "18:00", "23:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := tc.from
			for i, want := range tc.want {
				var s loopSlot
				s, at = nextSlot(at)
				if got := at.Format("15:04"); got != want || s.Name != dailySchedule[i].Name || at.Day() != tc.from.Day() {
					t.Fatalf("slot %d: %s at %s, want %s at %s", i, s.Name, got, dailySchedule[i].Name, want)
				}
			}
			if n := slotsBetween(tc.from, tc.from.AddDate(0, 0, 1)); n != 5 {
				t.Errorf("%d slots in the day from %v, want 5", n, tc.from)
			}
			if n := slotsBetween(tc.from, tc.from.AddDate(0, 0, 30)); n != 150 {
				t.Errorf("%d slots in the 30 days from %v, want 150", n, tc.from)
			}
		})
	}
}
