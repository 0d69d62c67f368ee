package kernel

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The states a kernel can be in.
const (
	StateRunning      = "running"      // heartbeating
	StateUnresponsive = "unresponsive" // its goroutine runs, but it missed kernels.missed_after checks
	StateFailed       = "failed"       // its goroutine ended with a panic or an error
	StateStopped      = "stopped"      // stopped by a command or by shutdown
	StateRecovering   = "recovering"   // the recovery playbook is running
	StateEscalated    = "escalated"    // the recovery playbook gave up
)

// beatsKept is how many recent heartbeats a kernel keeps as evidence.
const beatsKept = 5

// fault is an injected failure, delivered to a running kernel.
type fault int

const (
	faultPanic   fault = iota + 1 // panic at once
	faultHang                     // stop heartbeating, keep the goroutine
	faultExhaust                  // report memory past the limit, then exit
)

// kernel is one supervised kernel. Its fields are guarded by the control
// plane's mutex; its goroutine touches only what runKernel is given.
type kernel struct {
	name    string
	spec    Spec
	memBase float64 // the memory it reports when healthy

	state       string
	since       time.Time
	incarnation int
	cancel      context.CancelFunc
	done        chan struct{} // closed when the current incarnation's goroutine ends
	faults      chan fault
	// looping is true while the current incarnation is in its loop (not
	// stuck in a fault, not ended): alive, whatever its heartbeats' delay.
	looping   *atomic.Bool
	exit      *Exit  // how the last incarnation ended
	stopBy    string // the sender of a stop command for the current incarnation
	restarts  int
	restartAt time.Time // when a supervisor restart is due (zero: none)

	beats      []Beat // the latest, oldest first
	beatSeen   bool   // a heartbeat since the last check
	missed     int
	totalBeats uint64
	diagnosis  *Diagnosis
	incident   *incident
	waiters    []beatWaiter
}

// incident is one outage of a kernel, from detection until it heartbeats
// again from a newer incarnation (or resumes by itself).
type incident struct {
	seq         int
	opened      time.Time
	incarnation int // the incarnation that went down
	diagnosis   Diagnosis
	intentID    string // the emergency_recovery intent, once submitted
	escalated   bool
}

// beatWaiter is a verify_heartbeat step waiting for a heartbeat of at
// least incarnation.
type beatWaiter struct {
	incarnation int
	ch          chan struct{}
}

func newKernel(name string, spec Spec) *kernel {
	h := fnv.New32a()
	h.Write([]byte(name))
	return &kernel{name: name, spec: spec, memBase: float64(24 + h.Sum32()%40)}
}

func (k *kernel) setState(s string, now time.Time) {
	if k.state != s {
		k.state, k.since = s, now
	}
}

// down reports whether the kernel is not serving.
func (k *kernel) down() bool { return k.state != StateRunning }

// runKernel is a kernel incarnation's goroutine: it heartbeats until ctx
// ends, a dependency stays down, or a fault is injected. A panic is
// recovered into the Exit.
func (cp *ControlPlane) runKernel(ctx context.Context, k *kernel, inc int, faults <-chan fault, looping *atomic.Bool) (exit Exit) {
	exit.Incarnation = inc
	defer func() {
		if v := recover(); v != nil {
			exit.Panic = fmt.Sprint(v)
			exit.Stack = stackHead(debug.Stack())
		}
		exit.At = cp.clock.Now()
	}()
	// The ticker exists before the first heartbeat is seen, so that a
	// test that waits for that heartbeat and moves a fake clock moves it.
	t := cp.clock.NewTicker(cp.cfg.HeartbeatInterval)
	defer t.Stop()
	if dep := cp.depDown(k.name); dep != "" {
		exit.Dependency, exit.Err = dep, fmt.Sprintf("dependency %s is down", dep)
		return exit
	}
	var seq uint64
	mem := k.memBase
	beat := func() {
		seq++
		cp.bus.heartbeat(ctx, k.name, inc, seq, mem)
	}
	beat()
	// suffer carries out an injected fault; it reports whether the
	// incarnation ends.
	suffer := func(f fault) bool {
		looping.Store(false)
		switch f {
		case faultPanic:
			panic(fmt.Sprintf("injected fault: kernel %s killed", k.name))
		case faultHang:
			<-ctx.Done() // silent until restarted or shut down
		case faultExhaust:
			mem = float64(cp.cfg.MemoryLimitMB) * 1.25
			beat()
			exit.Exhausted, exit.MemMB = true, mem
			exit.Err = fmt.Sprintf("out of memory: %.0f MB in use, limit %d MB (kernels.memory_limit_mb)", mem, cp.cfg.MemoryLimitMB)
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return exit
		case f := <-faults:
			if suffer(f) {
				return exit
			}
		case <-t.C():
			select { // a fault injected before the tick comes first
			case f := <-faults:
				if suffer(f) {
					return exit
				}
			default:
			}
			if dep := cp.depDown(k.name); dep != "" {
				exit.Dependency, exit.Err = dep, fmt.Sprintf("dependency %s is down", dep)
				return exit
			}
			beat()
		}
	}
}

// stackHead keeps the frames of a stack that say where the panic was.
func stackHead(stack []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	var keep []string
	for i := 0; i < len(lines) && len(keep) < 6; i++ {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "goroutine ") || strings.Contains(l, "runtime/debug") || strings.Contains(l, "runtime/panic") ||
			strings.HasPrefix(l, "panic(") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, " | ")
}

func itoa(n int) string { return strconv.Itoa(n) }
