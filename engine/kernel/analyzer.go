package kernel

import (
	"fmt"
	"strings"
	"time"
)

// Cause is a root cause the failure analyzer can name.
type Cause string

// The root causes, in the order the analyzer weighs them.
const (
	// CausePanic: the kernel's goroutine panicked.
	CausePanic Cause = "panic"
	// CauseResourceExhaustion: the kernel ran out of memory (its last
	// heartbeats reported usage at or past kernels.memory_limit_mb).
	CauseResourceExhaustion Cause = "resource_exhaustion"
	// CauseDependencyFailure: a kernel it depends on was down first.
	CauseDependencyFailure Cause = "dependency_failure"
	// CauseStopCommand: a stop command on kernel.control stopped it.
	CauseStopCommand Cause = "stop_command"
	// CauseMissedHeartbeats: it went silent with nothing else to blame —
	// a hang when its goroutine is still alive.
	CauseMissedHeartbeats Cause = "missed_heartbeats"
)

// Beat is one heartbeat as the monitor saw it.
type Beat struct {
	At          time.Time `json:"at"`
	Incarnation int       `json:"incarnation"`
	Seq         uint64    `json:"seq"`
	MemMB       float64   `json:"mem_mb"`
}

// Exit is how a kernel's goroutine ended.
type Exit struct {
	At          time.Time `json:"at"`
	Incarnation int       `json:"incarnation"`
	// Panic is the recovered panic value and Stack the first lines of its
	// stack; empty when it did not panic.
	Panic string `json:"panic,omitempty"`
	Stack string `json:"stack,omitempty"`
	// Err is the error it returned.
	Err string `json:"err,omitempty"`
	// Exhausted and Dependency say what Err was about; MemMB is the
	// memory it reported last when it ran out.
	Exhausted  bool    `json:"exhausted,omitempty"`
	MemMB      float64 `json:"mem_mb,omitempty"`
	Dependency string  `json:"dependency,omitempty"`
	// StoppedBy names the sender of a stop command.
	StoppedBy string `json:"stopped_by,omitempty"`
}

// DepState is one dependency's state when the kernel failed.
type DepState struct {
	Name  string    `json:"name"`
	State string    `json:"state"`
	Since time.Time `json:"since"`
}

// Evidence is what the analyzer looks at.
type Evidence struct {
	Kernel string
	// Now is when the analysis is made.
	Now time.Time
	// Exit is nil while the kernel's goroutine still runs.
	Exit *Exit
	// Beats are the latest heartbeats, oldest first.
	Beats []Beat
	// Missed is how many heartbeat checks went without one; Interval is
	// kernels.heartbeat_interval.
	Missed   int
	Interval time.Duration
	// MemoryLimitMB is kernels.memory_limit_mb.
	MemoryLimitMB float64
	// Deps are the kernel's dependencies as they stand.
	Deps []DepState
}

// Diagnosis is the analyzer's verdict: a root cause, a one-line summary,
// the evidence behind it and how sure it is.
type Diagnosis struct {
	Kernel     string   `json:"kernel"`
	Cause      Cause    `json:"cause"`
	Summary    string   `json:"summary"`
	Evidence   []string `json:"evidence"`
	Confidence float64  `json:"confidence"`
	// Related names the dependency or the sender involved, if any.
	Related string `json:"related,omitempty"`
}

// Analyze names the root cause of a kernel's failure. It weighs, in order:
// a panic, resource exhaustion (an exhaustion exit, or a last heartbeat at
// or past the memory limit), a dependency that went down first, a stop
// command, and otherwise missed heartbeats (a hang when the goroutine is
// still alive).
func Analyze(ev Evidence) Diagnosis {
	d := Diagnosis{Kernel: ev.Kernel}
	last, hasBeat := Beat{}, len(ev.Beats) > 0
	if hasBeat {
		last = ev.Beats[len(ev.Beats)-1]
	}
	silence := "no heartbeat seen yet"
	if hasBeat {
		silence = fmt.Sprintf("last heartbeat %s ago (incarnation %d, seq %d); %d checks missed at %v intervals",
			roundDur(ev.Now.Sub(last.At)), last.Incarnation, last.Seq, ev.Missed, ev.Interval)
	}
	x := ev.Exit
	switch {
	case x != nil && x.Panic != "":
		d.Cause, d.Confidence = CausePanic, 0.95
		d.Summary = fmt.Sprintf("kernel %s panicked: %s", ev.Kernel, x.Panic)
		d.Evidence = []string{fmt.Sprintf("Its goroutine ended with a panic at %s (incarnation %d): %s", stamp(x.At), x.Incarnation, x.Panic)}
		if x.Stack != "" {
			d.Evidence = append(d.Evidence, "Stack: "+x.Stack)
		}
	case (x != nil && x.Exhausted) || (hasBeat && ev.MemoryLimitMB > 0 && last.MemMB >= ev.MemoryLimitMB):
		mem := last.MemMB
		if x != nil && x.MemMB > mem {
			mem = x.MemMB
		}
		d.Cause, d.Confidence = CauseResourceExhaustion, 0.9
		d.Summary = fmt.Sprintf("kernel %s exhausted its memory (%.0f MB, limit %.0f MB)", ev.Kernel, mem, ev.MemoryLimitMB)
		d.Evidence = []string{"Memory in its last heartbeats: " + memTrend(ev.Beats) + fmt.Sprintf(", last reported %.0f MB (limit %.0f MB)", mem, ev.MemoryLimitMB)}
		if x != nil && x.Err != "" {
			d.Evidence = append(d.Evidence, "It stopped with: "+x.Err)
		}
	case x != nil && x.Dependency != "" || downDep(ev.Deps) != nil:
		dep := downDep(ev.Deps)
		name := ""
		if x != nil {
			name = x.Dependency
		}
		if name == "" && dep != nil {
			name = dep.Name
		}
		d.Cause, d.Confidence, d.Related = CauseDependencyFailure, 0.85, name
		d.Summary = fmt.Sprintf("kernel %s lost its dependency %s", ev.Kernel, name)
		for _, s := range ev.Deps {
			if s.Name == name {
				d.Evidence = append(d.Evidence, fmt.Sprintf("Dependency %s has been %s since %s", s.Name, s.State, stamp(s.Since)))
			}
		}
		if x != nil && x.Err != "" {
			d.Evidence = append(d.Evidence, "It stopped with: "+x.Err)
		}
	case x != nil && x.StoppedBy != "":
		d.Cause, d.Confidence, d.Related = CauseStopCommand, 0.95, x.StoppedBy
		d.Summary = fmt.Sprintf("kernel %s was stopped by a command from %s", ev.Kernel, x.StoppedBy)
		d.Evidence = []string{fmt.Sprintf("A stop command from %s on %s at %s", x.StoppedBy, TopicControl, stamp(x.At))}
	default:
		d.Cause = CauseMissedHeartbeats
		if x == nil {
			d.Confidence = 0.7
			d.Summary = fmt.Sprintf("kernel %s is hung: its goroutine runs but it stopped heartbeating", ev.Kernel)
			d.Evidence = []string{"Its goroutine has not ended: no panic, no error, no exit"}
		} else {
			d.Confidence = 0.6
			d.Summary = fmt.Sprintf("kernel %s stopped heartbeating and ended: %s", ev.Kernel, x.Err)
			d.Evidence = []string{fmt.Sprintf("Its goroutine ended at %s with: %s", stamp(x.At), x.Err)}
		}
		if hasBeat {
			d.Evidence = append(d.Evidence, "Memory was normal: "+memTrend(ev.Beats))
		}
		if len(ev.Deps) > 0 {
			d.Evidence = append(d.Evidence, "Its dependencies are running: "+depNames(ev.Deps))
		}
	}
	d.Evidence = append(d.Evidence, strings.ToUpper(silence[:1])+silence[1:])
	return d
}

// downDep returns the first dependency that is not running.
func downDep(deps []DepState) *DepState {
	for i := range deps {
		if deps[i].State != StateRunning {
			return &deps[i]
		}
	}
	return nil
}

func depNames(deps []DepState) string {
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

func memTrend(beats []Beat) string {
	if len(beats) == 0 {
		return "no heartbeats"
	}
	parts := make([]string, len(beats))
	for i, b := range beats {
		parts[i] = fmt.Sprintf("%.0f", b.MemMB)
	}
	return strings.Join(parts, " → ") + " MB"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// roundDur shortens a duration for prose.
func roundDur(d time.Duration) string {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
