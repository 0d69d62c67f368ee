package engine

// The records of pausing and resuming the scheduler.

import (
	"fmt"
	"time"

	"grace/engine/clarity"
)

// actorAutoResume is the Who of an automatic resume; whereScheduler the
// Where of the scheduler's records.
const (
	actorAutoResume = "scheduler_auto_resume"
	whereScheduler  = "scheduler"
)

// The record names (What) of the scheduler's pause.
const (
	WhatSchedulerPaused  = "scheduler_paused"
	WhatSchedulerResumed = "scheduler_resumed"
	WhatPauseOverdue     = "scheduler_pause_overdue"
)

func pausedRecord(p PauseInfo, queued int, limit time.Duration, autoResume bool) clarity.Record {
	how := "operator_command"
	if p.Fault {
		how = "fault_injection"
	}
	why := []string{
		"Reason: " + p.Reason,
		fmt.Sprintf("%d intents queued wait; running tasks finish; submissions are still accepted", queued),
	}
	if autoResume {
		why = append(why, fmt.Sprintf("scheduler_auto_resume undoes the pause after %v if work is waiting", limit))
	} else {
		why = append(why, "scheduler_auto_resume is off: the pause lasts until someone resumes")
	}
	r := rec(p.Since, p.By, WhatSchedulerPaused, whereScheduler, how, "paused", "", why,
		map[string]any{"by": p.By, "reason": p.Reason, "queued": queued, "fault": p.Fault, "auto_resume_after_s": limit.Seconds()})
	r.Risk = 0.5
	return r
}

func resumedRecord(now time.Time, who, how string, p PauseInfo, why []string, queued int) clarity.Record {
	why = append(why, fmt.Sprintf("Paused by %s for %s (%s); %d intents queued now dispatch", p.By, roundDur(now.Sub(p.Since)), p.Reason, queued))
	r := rec(now, who, WhatSchedulerResumed, whereScheduler, how, "resumed", "", why,
		map[string]any{"paused_by": p.By, "paused_for_s": now.Sub(p.Since).Seconds(), "queued": queued, "fault": p.Fault})
	r.Risk = 0.2
	return r
}

func pauseOverdueRecord(now time.Time, p PauseInfo, limit time.Duration, queued int) clarity.Record {
	r := rec(now, actorSupervisor, WhatPauseOverdue, whereScheduler, "pause_watchdog", "left_paused", "",
		[]string{
			fmt.Sprintf("Paused by %s for %s, past scheduler.auto_resume_after (%v), while %d intents wait", p.By, roundDur(now.Sub(p.Since)), limit, queued),
			"scheduler_auto_resume is off (safeguards.scheduler_auto_resume.enabled=false): the pause stands and the queue starves",
		},
		map[string]any{"paused_by": p.By, "paused_for_s": now.Sub(p.Since).Seconds(), "queued": queued})
	r.Confidence, r.Risk = 1, 0.8
	return r
}
