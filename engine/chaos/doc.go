// Package chaos is Grace's chaos runner: the scenario schema, the loader
// that reads the scenario library (embedded in the binary, plus an
// optional folder that adds or overrides), and the runner that proves a
// scenario against an isolated engine. A scenario file is refused at load,
// naming the file, field and value, when its parameters (each at its base,
// or at its max) would make a config the engine under test refuses; a
// difficulty that grows one past what that engine takes is refused when
// the run is asked for, before anything runs.
//
// A run builds a fresh engine over a real SQLite store in a temporary data
// folder, checks its steady state, injects the scenario's faults through
// the engine's fault hooks (engine.Faults, engine.LayerFaults), watches
// the record until every expected safeguard has fired or a bounded
// deadline passes, rolls the faults back, checks the steady state again,
// stops the engine and checks the invariants on the store's record: no
// acknowledged intent lost, none completed twice or dispatched while
// another attempt was still running, no Tier 0 intent dispatched without
// an approval, the audit chain intact. A scenario passes only when every
// expected safeguard fired and every invariant held; a safeguard switched
// off (safeguards.<name>.enabled=false) makes its scenario fail naming it.
package chaos
