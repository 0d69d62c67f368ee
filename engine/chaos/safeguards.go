package chaos

import (
	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/kernel"
	"grace/engine/mesh"
	"grace/engine/policy"
)

// detector tells from the record that a safeguard fired: a record named
// What (and, when Who is set, written by Who).
type detector struct {
	What string
	Who  string
}

// detectors are the safeguards the runner can see fire, by config name.
// A scenario may expect only these.
var detectors = map[string]detector{
	engine.SafeguardRateLimit:           {What: engine.WhatRateLimited},
	engine.SafeguardLoadShedding:        {What: engine.WhatShedLoad},
	engine.SafeguardWorkerReassignment:  {What: engine.WhatRerouted},
	engine.SafeguardSchedulerAutoResume: {What: engine.WhatSchedulerResumed, Who: "scheduler_auto_resume"},
	engine.SafeguardMeshBackpressure:    {What: mesh.WhatSheddingEpisode},
	engine.SafeguardPolicyCascadeLimit:  {What: policy.WhatCascadeCut},
	engine.SafeguardCrashRecovery:       {What: engine.WhatRequeuedAfterStart},
	engine.SafeguardHandlerAbandonment:  {What: engine.WhatHandlerAbandoned},
	// A supervisor restart of a failed or hung kernel; a critical kernel's
	// recovery by the playbook is checked by the Layer 1 faults' rollback.
	engine.SafeguardKernelAutoRecovery: {What: kernel.WhatKernelRestarted, Who: "kernel_supervisor"},
	engine.SafeguardBusACL:             {What: kernel.WhatACLViolation, Who: "message_bus"},
}

// moreDetectors are further records that show a safeguard firing: an
// automatic resume of a paused intent type is scheduler_auto_resume too.
var moreDetectors = map[string]detector{
	engine.SafeguardSchedulerAutoResume: {What: engine.WhatTypeResumed, Who: "scheduler_auto_resume"},
}

// matches reports whether an entry shows the safeguard firing.
func (d detector) matches(e clarity.Entry) bool {
	return e.What == d.What && (d.Who == "" || e.Who == d.Who)
}

// KnownSafeguards lists the safeguards a scenario may expect, sorted.
func KnownSafeguards() []string {
	return sortedKeys(detectors)
}
