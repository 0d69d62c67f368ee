package main

import (
	"testing"

	"grace/engine"
	"grace/engine/chaos"
)

// The embedded console finds chaos on its API when the system has a chaos
// service, and the engine's own parts still.
func TestConsoleAPIOffersChaos(t *testing.T) {
	t.Parallel()
	eng := &engine.Engine{}
	with := (&system{eng: eng, chaos: &chaos.Service{}}).consoleAPI()
	if _, ok := with.(engine.ChaosAPI); !ok {
		t.Fatal("the console's API has no ChaosAPI although the system has a chaos service")
	}
	if _, ok := with.(engine.HealthAPI); !ok {
		t.Fatal("the console's API lost the engine's HealthAPI")
	}
	without := (&system{eng: eng}).consoleAPI()
	if _, ok := without.(engine.ChaosAPI); ok {
		t.Fatal("the console's API offers chaos without a chaos service")
	}
}
