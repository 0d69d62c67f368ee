package chaos

import (
	"slices"
	"time"
)

// SlotGrace is how late the loop may wake for a slot and still run it. A
// wake later than this (the machine slept, the clock jumped) counts the
// slot as missed: it is skipped, not run late.
const SlotGrace = 5 * time.Minute

// loopSlot is one slot of the seed's daily schedule ("Chaos Testing
// Flow"), in the local time of the engine's clock.
type loopSlot struct {
	Name         string // "02:00"
	Hour, Minute int
	// Level is the seed's "Combined" column.
	Level string
	// IDs are scenarios by ID; an ID the library does not hold is left out.
	IDs []string
	// Categories are run whole ("All DiRT", "All FIT"), so the slot runs
	// whatever the library holds of them.
	Categories []string
	// NotYetToday are categories whose scenarios run here only when they
	// have not run earlier the same day.
	NotYetToday []string
}

// dailySchedule is the seed's table:
//
//	02:00  kernel kills                         warm-up
//	08:00  ACL floods + HTM queue stress        medium
//	12:00  resource siege + trigger storms      high
//	18:00  multi-fault + worker dropout         mixed
//	23:00  all DiRT + all FIT                   maximum
//
// The seed's table leaves three Layer 2 scenarios and the Jepsen ones out
// of every slot. So that every scenario of the library is exercised each
// day, the 23:00 slot also runs the Layer 2 and Jepsen scenarios that did
// not run earlier that day (by the loop or by an operator, as the
// scenario's standing in the RunStore shows): on a normal day that is
// L2_scheduler_pause_during_load, L2_event_policy_cascade,
// L2_cancel_during_dropout, L2_type_pause_isolation and the three Jepsen
// scenarios, and after a skipped slot its Layer 2 scenario too.
var dailySchedule = []loopSlot{
	{Name: "02:00", Hour: 2, Level: "warm-up", IDs: []string{"DIRT_kernel_kill"}},
	{Name: "08:00", Hour: 8, Level: "medium", IDs: []string{"DIRT_acl_flood", "L2_HTM_queue_flood_stress"}},
	{Name: "12:00", Hour: 12, Level: "high", IDs: []string{"DIRT_resource_siege", "L2_trigger_mesh_storm"}},
	{Name: "18:00", Hour: 18, Level: "mixed", IDs: []string{"FIT_multi_fault", "L2_worker_dropout_chaos"}},
	{Name: "23:00", Hour: 23, Level: "maximum", Categories: []string{CategoryDiRT, CategoryFIT},
		NotYetToday: []string{CategoryLayer2, CategoryJepsen}},
}

// at returns the slot's time on the local day of day (in day's location).
// On a day where the slot's wall time does not exist (a daylight-saving
// gap) time.Date moves it forward, so the slot still happens once.
func (s loopSlot) at(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, s.Hour, s.Minute, 0, 0, day.Location())
}

// nextSlot returns the first slot strictly after t, in t's location.
func nextSlot(t time.Time) (loopSlot, time.Time) {
	for off := 0; ; off++ {
		day := time.Date(t.Year(), t.Month(), t.Day()+off, 12, 0, 0, 0, t.Location())
		for _, s := range dailySchedule {
			if at := s.at(day); at.After(t) {
				return s, at
			}
		}
	}
}

// slotsBetween counts the slots in (from, to]. Whole days in a long gap
// are counted without walking them (each local day holds every slot once).
func slotsBetween(from, to time.Time) int {
	if !to.After(from) {
		return 0
	}
	n := 0
	if days := int(to.Sub(from)/(24*time.Hour)) - 2; days > 0 {
		from = from.AddDate(0, 0, days)
		n += days * len(dailySchedule)
	}
	for {
		_, at := nextSlot(from)
		if at.After(to) {
			return n
		}
		n++
		from = at
	}
}

// scenarios lists what the slot at time at runs from lib, in run order:
// its IDs, then its categories' scenarios (each category sorted by ID),
// then the scenarios of its NotYetToday categories whose last run (the
// standing in states) is before the local day of at.
func (s loopSlot) scenarios(lib *Library, states map[string]ScenarioState, at time.Time) []string {
	var out []string
	add := func(id string) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, id := range s.IDs {
		if lib.Get(id) != nil {
			add(id)
		}
	}
	for _, c := range s.Categories {
		for _, sc := range lib.Scenarios {
			if sc.Category == c {
				add(sc.ID)
			}
		}
	}
	dayStart := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, at.Location()).UnixMilli()
	for _, c := range s.NotYetToday {
		for _, sc := range lib.Scenarios {
			if sc.Category == c && states[sc.ID].LastRunAt < dayStart {
				add(sc.ID)
			}
		}
	}
	return out
}
