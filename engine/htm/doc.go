// Package htm is the HTM orchestrator's bounded priority queue: intents wait
// here, highest priority first and oldest first within a priority, until the
// scheduler dispatches them.
package htm
