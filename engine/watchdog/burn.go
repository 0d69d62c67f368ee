package watchdog

import (
	"fmt"
	"time"
)

// BurnRule is one multiwindow burn-rate alert of the Google SRE workbook
// ("Alerting on SLOs", table 5-8): it fires when the error budget burns
// faster than Factor over both the Long window and the Short one (the short
// window makes the alert stop soon after the burning does).
type BurnRule struct {
	Long, Short time.Duration // at the workbook's 30-day period
	Factor      float64       // burn rate: 1 spends the budget exactly over the period
	Severity    Status        // Critical pages; Warn is a ticket
}

// workbookPeriod is the period the workbook's windows are given for.
const workbookPeriod = 720 * time.Hour

// BurnRules are the workbook's four rules: 2% of the budget in 1h and 5%
// in 6h page (critical); 10% in 1d and 10% in 3d make a ticket (warn).
var BurnRules = []BurnRule{
	{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Severity: Critical},
	{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6, Severity: Critical},
	{Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 3, Severity: Warn},
	{Long: 72 * time.Hour, Short: 6 * time.Hour, Factor: 1, Severity: Warn},
}

// bucketsPerPeriod sets the resolution: a bucket is 1 minute of a 30-day
// period.
const bucketsPerPeriod = 43200

// budgetShare is the share of the period's error budget a rule spends
// before it fires: Factor × Long / period.
func (r BurnRule) budgetShare() float64 {
	return r.Factor * r.Long.Hours() / workbookPeriod.Hours()
}

// scaled returns the rule's windows for period.
func (r BurnRule) scaled(period time.Duration) (long, short time.Duration) {
	f := float64(period) / float64(workbookPeriod)
	return time.Duration(float64(r.Long) * f), time.Duration(float64(r.Short) * f)
}

// WindowBurn is the burn rate over one window.
type WindowBurn struct {
	// Window is the window's length.
	Window time.Duration `json:"window"`
	// Events and Bad count what was recorded in it.
	Events uint64 `json:"events"`
	Bad    uint64 `json:"bad"`
	// BurnRate is the bad share over the error budget (1 - objective): 1
	// spends the budget exactly over the period. 0 with no events.
	BurnRate float64 `json:"burn_rate"`
}

// describe words one rule's state for a reason.
func describeRule(name string, r BurnRule, long, short WindowBurn, period time.Duration) string {
	return fmt.Sprintf("%s burns its error budget %.1f× over %s and %.1f× over %s (alert at %.1f×: %.0f%% of the %s budget in %s)",
		name, long.BurnRate, span(long.Window), short.BurnRate, span(short.Window), r.Factor, 100*r.budgetShare(), span(period), span(long.Window))
}

// span writes a window's length shortly: "30d", "6h", "5m", "416ms".
func span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return short(d)
}
