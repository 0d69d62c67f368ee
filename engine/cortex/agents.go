package cortex

import (
	"fmt"
	"math/rand/v2"
)

// The agents of the demo cortex.
const (
	agentResearcher = "agent.researcher"
	agentPlanner    = "agent.planner"
	agentSRE        = "agent.sre"
	agentArchitect  = "agent.architect"
	agentSteward    = "agent.steward"
	// agentGeneralist submits types the cortex has no recipe for.
	agentGeneralist = "agent.generalist"
)

// Agents lists the agents that submit the cortex's intents.
var Agents = []string{agentResearcher, agentPlanner, agentSRE, agentArchitect, agentSteward, agentGeneralist}

// claim is a charter priority a kind of work serves with some probability.
type claim struct {
	priority string
	p        float64
}

// recipe is how one intent type's work looks.
type recipe struct {
	agents []string
	claims []claim
	// minPri and maxPri bound the usual priority; zero means the common
	// spread (mostly 3 to 6, now and then 8 or 9).
	minPri, maxPri int
	payload        func(r *rand.Rand) map[string]any
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// recipes holds the work of each intent type of the seed's charter.
var recipes = map[string]recipe{
	"query_knowledge": {
		agents: []string{agentResearcher, agentPlanner, agentSRE},
		claims: []claim{{"learning", 0.6}, {"revenue", 0.1}},
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"query": pick(r,
					"What caused the message bus latency spike on kernel 7 last Tuesday?",
					"Which runbook covers an HTM queue above its critical depth?",
					"Which open incidents touch the trigger mesh?",
					"How many intents were shed in the last 24 hours, by priority?",
					"Which workers failed health checks this week, and why?",
					"What is the trend of p95 dispatch latency over the last 7 days?",
					"Which chaos scenarios broke an invariant this month?",
					"Who approved the last three Tier 0 intents, and what did they change?",
					"Which event policies cascaded deeper than five levels?",
					"What did the churn analysis say about enterprise customers in Q3?"),
				"sources":     []string{pick(r, "runbooks", "incident_reports", "narratives"), pick(r, "telemetry", "chaos_history", "design_docs")},
				"max_results": pick(r, 5, 10, 20),
			}
		},
	},
	"generate_summary": {
		agents: []string{agentResearcher, agentPlanner},
		claims: []claim{{"learning", 0.5}, {"autonomy", 0.2}},
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"document": pick(r,
					"postmortems/2026-11-03-bus-latency.md",
					"design/htm-load-shedding.md",
					"chaos/runs/L2_worker_dropout_chaos-118.json",
					"reports/weekly-slo-2026-w47.md",
					"research/market-intelligence-brief.pdf",
					"runbooks/emergency-kernel-recovery.md",
					"rfcs/RFC-031-trigger-mesh-backpressure.md"),
				"audience":  pick(r, "on-call", "leadership", "agents", "new engineers"),
				"max_words": pick(r, 150, 250, 400),
			}
		},
	},
	"schedule_task": {
		agents: []string{agentPlanner, agentSRE},
		claims: []claim{{"autonomy", 0.5}, {"resilience", 0.3}},
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"task": pick(r,
					"rotate_tls_certificates", "compact_narrative_index", "snapshot_telemetry",
					"refresh_knowledge_embeddings", "run_chaos_L2_trigger_mesh_storm", "verify_audit_chain"),
				"cron":  pick(r, "0 3 * * *", "*/15 * * * *", "30 2 * * 1", "0 */6 * * *"),
				"owner": pick(r, agentPlanner, agentSRE),
			}
		},
	},
	"execute_sandbox": {
		agents: []string{agentSRE, agentResearcher, agentArchitect},
		claims: []claim{{"learning", 0.4}, {"resilience", 0.4}},
		payload: func(r *rand.Rand) map[string]any {
			run := pick(r,
				[]any{"golang:1.26", []string{"go", "test", "./engine/..."}},
				[]any{"python:3.12-slim", []string{"pytest", "-q", "tests/htm"}},
				[]any{"python:3.12-slim", []string{"python", "analyze_churn.py", "--quarter", "2026Q3"}},
				[]any{"node:22-alpine", []string{"npm", "run", "lint"}},
				[]any{"alpine:3.20", []string{"sh", "-c", "ping -c 3 kernel-07.internal"}})
			return map[string]any{
				"sandbox":   fmt.Sprintf("sbx-%04x", r.IntN(1<<16)),
				"image":     run[0],
				"command":   run[1],
				"timeout_s": pick(r, 60, 120, 300),
				"network":   pick(r, "none", "internal"),
			}
		},
	},
	"deploy_model": {
		agents: []string{agentArchitect, agentSRE},
		claims: []claim{{"revenue", 0.6}, {"autonomy", 0.3}},
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"model":           pick(r, "intent-classifier", "anomaly-detector", "summary-ranker", "churn-forecaster"),
				"version":         fmt.Sprintf("v%d.%d.%d", 1+r.IntN(3), r.IntN(10), r.IntN(20)),
				"stage":           pick(r, "canary", "canary", "staging", "production"),
				"traffic_percent": pick(r, 5, 10, 25, 50),
			}
		},
	},
	"modify_config": {
		agents: []string{agentSRE},
		claims: []claim{{"resilience", 0.6}},
		payload: func(r *rand.Rand) map[string]any {
			c := pick(r,
				[]any{"htm.warn_depth", 1000, 1200, "warn earlier during the evening peak"},
				[]any{"workers.count", 8, 10, "dispatch rate is capped by busy workers"},
				[]any{"workers.backoff_base", "500ms", "750ms", "retries pile up on the model registry"},
				[]any{"approvals.timeout", "24h", "12h", "stale approvals linger over weekends"},
				[]any{"store.batch_wait", "200us", "500us", "fewer, larger group commits under load"})
			return map[string]any{"key": c[0], "from": c[1], "to": c[2], "reason": c[3]}
		},
	},
	"extend_grace": {
		agents: []string{agentArchitect},
		claims: []claim{{"revenue", 0.7}, {"autonomy", 0.3}},
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"feature":  pick(r, "market_intelligence", "incident_forecasting", "cost_anomaly_alerts", "runbook_autogen", "customer_health_scores"),
				"spec":     fmt.Sprintf("rfcs/RFC-%03d.md", 30+r.IntN(40)),
				"est_days": pick(r, 2, 3, 5, 8),
			}
		},
	},
	"optimize_system": {
		agents: []string{agentSRE, agentArchitect},
		claims: []claim{{"resilience", 0.7}, {"revenue", 0.2}},
		payload: func(r *rand.Rand) map[string]any {
			o := pick(r,
				[]string{"scheduler", "cut p95 dispatch latency by 20%", "prefer warm workers for repeat intent types"},
				[]string{"htm_queue", "shed less during bursts", "raise priority of aged Tier 1 intents"},
				[]string{"trigger_mesh", "halve dropped events", "grow subscription buffers to 512"},
				[]string{"narrative_index", "keep search lag under 1 s", "batch full-text catch-up every 200 ms"})
			return map[string]any{"target": o[0], "goal": o[1], "change": o[2]}
		},
	},
	"self_improve": {
		agents: []string{agentResearcher, agentArchitect},
		claims: []claim{{"learning", 0.7}, {"autonomy", 0.4}},
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"skill":  pick(r, "root-cause analysis of kernel faults", "summarising postmortems", "choosing load-shedding thresholds"),
				"method": pick(r, "fine-tune on 400 reviewed narratives", "few-shot from approved decisions", "replay last week's chaos runs"),
			}
		},
	},
	"change_charter": {
		agents: []string{agentSteward},
		claims: []claim{{"autonomy", 0.5}, {"learning", 0.3}},
		minPri: 5, maxPri: 7,
		payload: func(r *rand.Rand) map[string]any {
			c := pick(r,
				[]any{"learning", 0.6, 0.65, "learning work is outvoted too often at the hub"},
				[]any{"autonomy", 0.7, 0.75, "routine optimisation waits on humans"},
				[]any{"revenue", 0.8, 0.75, "revenue experiments crowd out resilience work"})
			return map[string]any{"priority": c[0], "from": c[1], "to": c[2], "rationale": c[3]}
		},
	},
	"grant_permissions": {
		agents: []string{agentSteward, agentSRE},
		claims: []claim{{"autonomy", 0.5}, {"resilience", 0.3}},
		minPri: 5, maxPri: 7,
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"principal":  pick(r, agentSRE, agentArchitect, agentResearcher),
				"permission": pick(r, "kernel.restart", "bus.acl.write", "chaos.run.dirt", "models.deploy.production"),
				"scope":      pick(r, "layer1", "layer2", "staging"),
				"duration":   pick(r, "1h", "4h", "24h"),
			}
		},
	},
	"modify_governance": {
		agents: []string{agentSteward},
		claims: []claim{{"autonomy", 0.6}},
		minPri: 5, maxPri: 7,
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"change":    pick(r, "move schedule_task to tier_1", "raise governance.vote.min_alignment to 0.6", "add rotate_secrets to tier_2"),
				"rationale": pick(r, "fewer surprises for the on-call", "cut approval wait times", "align with the Phase 1 charter review"),
			}
		},
	},
	"emergency_recovery": {
		agents: []string{agentSRE},
		claims: []claim{{"resilience", 1}},
		minPri: 8, maxPri: 9,
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"kernel":   fmt.Sprintf("kernel-%02d", 1+r.IntN(20)),
				"symptom":  pick(r, "missed 3 heartbeats", "message bus ACL flood", "memory pressure above 95%"),
				"playbook": "playbooks/emergency_critical_kernel_recovery.yaml",
			}
		},
	},
	"critical_incident": {
		agents: []string{agentSRE},
		claims: []claim{{"resilience", 1}, {"revenue", 0.3}},
		minPri: 8, maxPri: 9,
		payload: func(r *rand.Rand) map[string]any {
			return map[string]any{
				"incident": fmt.Sprintf("INC-%04d", 1000+r.IntN(9000)),
				"severity": pick(r, "SEV1", "SEV2"),
				"summary":  pick(r, "checkout intents failing at the webhook", "scheduler paused under load", "audit checkpoint signature mismatch"),
			}
		},
	},
}

// genericRecipe serves intent types the cortex knows nothing about.
var genericRecipe = recipe{
	agents: []string{agentGeneralist},
	claims: []claim{{"autonomy", 0.3}},
	payload: func(r *rand.Rand) map[string]any {
		return map[string]any{"request": pick(r, "look into it", "follow up on yesterday's alert", "prepare a proposal")}
	},
}
