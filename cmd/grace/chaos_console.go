package main

import "grace/engine"

// consoleEngine is the embedded console's API: the engine (operator API,
// health, events) with the chaos service's engine.ChaosAPI beside it, so
// that the console's Chaos screen finds chaos with a type assertion, as it
// does on an attached httpapi.Remote.
type consoleEngine struct {
	*engine.Engine
	engine.ChaosAPI
}

var (
	_ engine.OperatorAPI = consoleEngine{}
	_ engine.HealthAPI   = consoleEngine{}
	_ engine.ChaosAPI    = consoleEngine{}
)

// consoleAPI is what the embedded console runs against: the engine, plus
// the chaos service when there is one.
func (s *system) consoleAPI() engine.OperatorAPI {
	if s.chaos == nil {
		return s.eng
	}
	return consoleEngine{Engine: s.eng, ChaosAPI: s.chaos}
}
