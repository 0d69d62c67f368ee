package kernel

import (
	"sort"
	"strings"
	"time"
)

// KernelInfo is one kernel's live state, for the watchdog and the console.
type KernelInfo struct {
	Name        string `json:"name"`
	Critical    bool   `json:"critical"`
	State       string `json:"state"`
	Incarnation int    `json:"incarnation"`
	// LastHeartbeat and HeartbeatAgeMS are zero before the first one.
	LastHeartbeat  time.Time `json:"last_heartbeat"`
	HeartbeatAgeMS int64     `json:"heartbeat_age_ms"`
	Heartbeats     uint64    `json:"heartbeats"`
	// MissedChecks counts the heartbeat checks missed in a row.
	MissedChecks int     `json:"missed_checks"`
	MemMB        float64 `json:"mem_mb"`
	Restarts     int     `json:"restarts"`
	// RootCause is the analyzer's verdict on its latest failure.
	RootCause string `json:"root_cause,omitempty"`
	// Incident is the open incident's recovery intent, if any.
	RecoveryIntent string   `json:"recovery_intent,omitempty"`
	DependsOn      []string `json:"depends_on,omitempty"`
	ACLViolations  uint64   `json:"acl_violations"`
	Suspended      bool     `json:"suspended"`
	Isolated       bool     `json:"isolated"`
}

// Kernels returns every kernel's live state in boot order.
func (cp *ControlPlane) Kernels() []KernelInfo {
	now := cp.clock.Now()
	cp.mu.Lock()
	out := make([]KernelInfo, 0, len(cp.order))
	for _, n := range cp.order {
		out = append(out, cp.infoLocked(cp.kernels[n], now))
	}
	cp.mu.Unlock()
	for i := range out {
		out[i].ACLViolations, out[i].Suspended, out[i].Isolated = cp.bus.senderFacts(out[i].Name, now)
	}
	return out
}

// Kernel returns one kernel's live state.
func (cp *ControlPlane) Kernel(name string) (KernelInfo, bool) {
	now := cp.clock.Now()
	cp.mu.Lock()
	k := cp.kernels[name]
	if k == nil {
		cp.mu.Unlock()
		return KernelInfo{}, false
	}
	info := cp.infoLocked(k, now)
	cp.mu.Unlock()
	info.ACLViolations, info.Suspended, info.Isolated = cp.bus.senderFacts(name, now)
	return info, true
}

func (cp *ControlPlane) infoLocked(k *kernel, now time.Time) KernelInfo {
	info := KernelInfo{Name: k.name, Critical: k.spec.Critical, State: stateOr(k.state), Incarnation: k.incarnation,
		Heartbeats: k.totalBeats, MissedChecks: k.missed, Restarts: k.restarts, DependsOn: k.spec.DependsOn}
	if n := len(k.beats); n > 0 {
		last := k.beats[n-1]
		info.LastHeartbeat, info.HeartbeatAgeMS, info.MemMB = last.At, now.Sub(last.At).Milliseconds(), last.MemMB
	}
	if k.diagnosis != nil {
		info.RootCause = string(k.diagnosis.Cause)
	}
	if k.incident != nil {
		info.RecoveryIntent = k.incident.intentID
	}
	return info
}

// Playbooks returns the loaded playbooks' IDs.
func (cp *ControlPlane) Playbooks() []string { return sortedNames(cp.playbooks) }

func playbookIDs(m map[string]*Playbook) string { return strings.Join(sortedNames(m), ", ") }

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Checks returns how many heartbeat checks have run; a test or a chaos run
// that moves a fake clock waits on it.
func (cp *ControlPlane) Checks() uint64 { return cp.checks.Load() }
