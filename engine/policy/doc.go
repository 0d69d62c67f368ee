// Package policy is Grace's event policy engine: rules from config that,
// when an event on the trigger mesh matches, emit another event, submit an
// intent, or raise an alert.
//
// Rules are compiled before anything runs (Compile). A rule that does not
// parse, names an unknown topic or action, or would loop through itself
// (rule a emits what rule b hears, and b emits what a hears — through
// submitted intents too) is refused, naming the rule and where it came
// from.
//
// Every event carries its causation chain (mesh.Event.Chain). At run time,
// with the policy_cascade_limit safeguard on, an action that would make a
// chain deeper than policy.max_depth (default 10), or that would repeat a
// step already in its chain (a cycle the static check could not see, such
// as one through another component), is cut: not carried out, counted,
// announced on policy.cascade_cut and narrated with the chain. Switched
// off, cascades run as deep and as long as the rules make them.
//
// Narration is bounded: a rule's alerts and cuts are narrated at most once
// per policy.alert_interval each; repeats in between are counted and told
// in one summary record.
package policy
