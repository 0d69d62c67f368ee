package watchdog

import (
	"cmp"
	"slices"
)

// sortAlerts orders alerts most severe first, then oldest first, then by
// key.
func sortAlerts(as []Alert) {
	slices.SortFunc(as, func(a, b Alert) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// sortedNames returns m's keys in order.
func sortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
