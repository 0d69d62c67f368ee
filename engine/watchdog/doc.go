// Package watchdog is Grace's Layer 2 watchdog: it checks the
// orchestration components every interval (15 s by default) against the
// seed's thresholds, waits for their readiness at boot, counts SLO
// breaches, raises alerts and publishes telemetry.
//
// A Component is a name and a check. A check returns a Result: whether the
// component is ready, and Findings, each a condition graded OK, Warn or
// Critical with a reason in words and figures; the component's status is
// the worst finding. HTMCheck, SchedulerCheck, MeshCheck and PolicyCheck
// build the seed's four from functions that read the live figures, so this
// package knows nothing of the engine.
//
// Each check (Watchdog.Run, every Config.Interval):
//
//   - grades every component; once boot readiness has resolved, a component
//     that is not ready is a critical "readiness" finding;
//   - adds each SLO's multi-window burn-rate verdict (the SRE workbook's
//     four rules, windows scaled by Config.SLO.Period) to its component;
//   - counts an SLO breach for every component not OK;
//   - keeps one Alert per "<component>/<condition>" while the condition
//     lasts (de-duplication: a lasting condition is one alert with a
//     count, first and last seen), escalates or de-escalates it as the
//     severity moves, and resolves it when a check finds the condition
//     gone;
//   - publishes a Report (for Snapshot and health) and a Telemetry snapshot
//     in the seed's shape;
//   - writes a 5W1H record through the journal for every alert raised,
//     escalated, de-escalated or resolved, and for a snapshot that shows
//     something wrong;
//   - saves the snapshot and the alert changes to History, dropping what is
//     past retention.
//
// Boot readiness: Boot probes once; Run probes every Config.ReadinessPoll
// until every component is ready or Config.ReadinessTimeout has passed, and
// then records which components were not ready.
//
// Silences: a Silence mutes the notifications of the alerts its match
// selects ("component/condition", "component/*", "*/condition", or "*",
// CheckMatch and MatchKey) until it ends. It changes nothing here: the
// watchdog raises, records and keeps those alerts as ever. Whoever shows
// a firing alert marks it with the silence that mutes it
// (Alert.Silenced, MarkSilenced); the engine keeps the silences, marks
// the alerts' events, and, when a silence ends, announces what its
// webhooks missed under it: an alert whose change it muted and that
// still fires, and the resolution of one they were told fired
// (AlertEvent.AfterSilence). A silence lasts MinSilence to MaxSilence
// and is kept SilenceRetention after it ends.
//
// Everything that waits runs on the injected clock, so tests drive the
// watchdog with clock.Fake in milliseconds.
package watchdog
