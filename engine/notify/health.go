package notify

import (
	"fmt"
	"sync"
	"time"

	"grace/engine/watchdog"
)

// ComponentName is the notifier's name among the watchdog's components.
const ComponentName = "notifications"

// failingCritical is how many notifications in a row a webhook must fail
// (each after all its attempts) before its alert is critical.
const failingCritical = 3

// standing is how a webhook's deliveries stand, for the watchdog: written
// by the webhook's goroutine, read by the watchdog's.
type standing struct {
	mu        sync.Mutex
	failedRow int       // notifications failed in a row (after their retries)
	lastCause string    // why the newest failure failed
	lastFail  time.Time // when
	dropped   uint64    // notifications dropped, ever
	delivered uint64    // notifications delivered, ever
}

func (s *standing) deliveredOne() {
	s.mu.Lock()
	s.failedRow = 0
	s.delivered++
	s.mu.Unlock()
}

func (s *standing) failedOne(cause string, at time.Time) {
	s.mu.Lock()
	s.failedRow++
	s.lastCause, s.lastFail = cause, at
	s.mu.Unlock()
}

func (s *standing) droppedSome(n int) {
	s.mu.Lock()
	s.dropped += uint64(n)
	s.mu.Unlock()
}

// Component is the notifier as the watchdog watches it: one finding per
// webhook (condition "webhook:<name>"), warn once a notification to it
// failed after all its attempts or was dropped since the last check,
// critical after failingCritical failed in a row, ok again once one is
// delivered. So a receiver that is down, refuses Grace, or cannot keep up
// raises an alert (in the console, grace health, /v1/telemetry, and the
// other webhooks) instead of failing only in the log.
func (n *Notifier) Component() watchdog.Component {
	seenDropped := make([]uint64, len(n.hooks)) // the watchdog's goroutine's
	return watchdog.Component{Name: ComponentName, Check: func(time.Time) watchdog.Result {
		res := watchdog.Result{Ready: true, Metrics: map[string]float64{}}
		for i, h := range n.hooks {
			s := &h.standing
			s.mu.Lock()
			failedRow, cause, at, dropped, delivered := s.failedRow, s.lastCause, s.lastFail, s.dropped, s.delivered
			s.mu.Unlock()
			newDrops := dropped - seenDropped[i]
			seenDropped[i] = dropped
			f := watchdog.Finding{Condition: "webhook:" + h.cfg.Name, Status: watchdog.OK,
				Reason: fmt.Sprintf("webhook %s (%s): %d notifications delivered, none failing", h.cfg.Name, h.host, delivered)}
			switch {
			case failedRow >= failingCritical:
				f.Status = watchdog.Critical
				f.Reason = fmt.Sprintf("webhook %s (%s): the last %d notifications failed after all their attempts; the newest at %s: %s",
					h.cfg.Name, h.host, failedRow, at.UTC().Format(time.RFC3339), cause)
			case failedRow > 0:
				f.Status = watchdog.Warn
				f.Reason = fmt.Sprintf("webhook %s (%s): a notification failed after all its attempts at %s: %s",
					h.cfg.Name, h.host, at.UTC().Format(time.RFC3339), cause)
			case newDrops > 0:
				f.Status = watchdog.Warn
				f.Reason = fmt.Sprintf("webhook %s (%s): %d notifications dropped since the last check: its queue of %d was full (the receiver is slower than what Grace sends)",
					h.cfg.Name, h.host, newDrops, cap(h.queue))
			}
			res.Findings = append(res.Findings, f)
			res.Metrics["webhook_"+h.cfg.Name+"_failed_in_a_row"] = float64(failedRow)
		}
		return res
	}}
}
