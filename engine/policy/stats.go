package policy

// RuleStats are one rule's figures.
type RuleStats struct {
	Name   string `json:"name"`
	Topic  string `json:"topic"`
	Action string `json:"action"`
	Fired  uint64 `json:"fired"`
	Cut    uint64 `json:"cut"`
	// Failed counts actions that failed, such as a submission intake
	// refused; an event a full buffer dropped is a mesh drop, not this.
	Failed uint64 `json:"failed"`
}

// Stats are the policy engine's live figures, for the watchdog and the
// console.
type Stats struct {
	// Loaded is true once the rules are compiled and subscribed.
	Loaded        bool `json:"loaded"`
	Rules         int  `json:"rules"`
	Subscriptions int  `json:"subscriptions"`
	// Evaluated counts events looked at; Fired counts actions taken.
	Evaluated uint64 `json:"evaluated"`
	Fired     uint64 `json:"fired"`
	// FireRate is actions per second over the last 10 s.
	FireRate     float64 `json:"fire_rate"`
	Emitted      uint64  `json:"emitted"`
	Submitted    uint64  `json:"submitted"`
	Alerts       uint64  `json:"alerts"`
	ActionErrors uint64  `json:"action_errors"`
	// CascadeLimit is the policy_cascade_limit safeguard; MaxDepth its
	// limit; DeepestChain the deepest causation chain an action has made.
	CascadeLimit bool `json:"cascade_limit"`
	MaxDepth     int  `json:"max_depth"`
	DeepestChain int  `json:"deepest_chain"`
	// CascadesCut = CutDepth + CutCycle.
	CascadesCut uint64 `json:"cascades_cut"`
	CutDepth    uint64 `json:"cut_depth"`
	CutCycle    uint64 `json:"cut_cycle"`
	// NotNarrated counts alerts and cuts counted into a summary instead
	// of a record of their own.
	NotNarrated uint64      `json:"not_narrated"`
	PerRule     []RuleStats `json:"per_rule"`
}

// Stats returns the live figures.
func (e *Engine) Stats() Stats {
	st := Stats{
		Loaded: true, Rules: len(e.rs.rules), Subscriptions: len(e.subs),
		Evaluated: e.evaluated.Load(), Fired: e.fired.Load(), FireRate: e.fireRate.Rate(e.clock.Now()),
		Emitted: e.emitted.Load(), Submitted: e.submitted.Load(), Alerts: e.alerts.Load(), ActionErrors: e.actionErrors.Load(),
		CascadeLimit: e.limit, MaxDepth: e.cfg.MaxDepth, DeepestChain: int(e.deepest.Load()),
		CutDepth: e.cutDepth.Load(), CutCycle: e.cutCycle.Load(), NotNarrated: e.narrate.suppressed(),
	}
	st.CascadesCut = st.CutDepth + st.CutCycle
	for _, r := range e.rs.rules {
		st.PerRule = append(st.PerRule, RuleStats{Name: r.Name, Topic: r.Topic, Action: r.Action,
			Fired: r.fired.Load(), Cut: r.cut.Load(), Failed: r.failed.Load()})
	}
	return st
}
