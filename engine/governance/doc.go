// Package governance is the intent governance router of the seed's Layer 2:
// every intent an agent submits passes through a Router before anything
// runs it.
//
// The router does three things, all deterministic and free of I/O:
//
//   - It maps the intent type to an autonomy tier (Tier 0 to Tier 4) from the
//     Phase 1 charter in Config. A type the charter does not list is Tier 0,
//     so an unknown action waits for a human instead of running (fail closed).
//   - It scores mission alignment: a mission context key "<priority>_impact"
//     set to true claims that charter priority, and the score is the highest
//     weight claimed (resilience 1.0, revenue 0.8, autonomy 0.7, learning 0.6
//     in the seed charter).
//   - It decides where the intent goes: Tier 0 to a human, Tiers 1, 2 and 4
//     straight to the queue, Tier 3 to the unified logic hub, whose vote of
//     three voters (health, alignment, rate of high-impact actions) is held
//     by Route itself and returned with each ballot and its reason.
//
// The resulting intent.Decision uses the seed's field names and reads like
// the seed: "Tier 3: High impact, requires unified logic vote",
// "Mission alignment: 80%".
package governance
