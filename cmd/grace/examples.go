package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are the commands' cobra Example sections, by command path: a
// few lines an operator can copy, each one that runs against this binary
// (TestExamplesParse parses every line, TestExamplesRun runs some against
// grace serve). $ID stands for an intent ID, as printed by intent submit.
var examples = map[string][]string{
	"grace intent submit": {
		`grace intent submit --type query_knowledge --payload '{"query":"q3 revenue"}'`,
		`grace intent submit --type schedule_task --delay 10m --idempotency-key nightly-report`,
		`ID=$(grace intent submit --type generate_summary --payload @request.json)`,
	},
	"grace intent list": {
		`grace intent list --state pending_approval`,
		`grace intent list --type deploy_model --since 24h --limit 20`,
		`grace intent list --actor agent.builder --json`,
	},
	"grace intent get": {
		`grace intent get "$ID"`,
		`grace intent get "$ID" --wait --wait-timeout 2m`,
	},
	"grace intent approve": {
		`grace intent list --state pending_approval`,
		`grace intent approve "$ID" --reason "change reviewed"`,
	},
	"grace intent deny": {
		`grace intent deny "$ID" --reason "not during the freeze"`,
	},
	"grace intent cancel": {
		`grace intent cancel "$ID" --reason "wrong plan"`,
		`grace intent cancel --type schedule_task --state queued --reason "rerun tomorrow" --dry-run`,
		`grace intent cancel --actor agent.builder --reason "agent misbehaving"`,
	},
	"grace intent batch": {
		`grace intent batch submissions.jsonl`,
		`grace intent batch --atomic submissions.jsonl`,
		`grace intent batch - < submissions.jsonl`,
	},
	"grace chaos run": {
		`grace chaos run L2_event_policy_cascade`,
		`grace chaos run --category fit --difficulty 2`,
		`grace chaos run --live L2_trigger_mesh_storm`,
	},
	"grace chaos halt": {
		`grace chaos halt --reason "latency alert during the run"`,
	},
	"grace chaos history": {
		`grace chaos history`,
		`grace chaos history --limit 5 --json`,
	},
	"grace narratives search": {
		`grace narratives search "$ID"`,
		`grace narratives search 'charter -denied' --since 1h`,
		`grace narratives search --actor agent.builder --action dispatched --limit 20`,
		`grace narratives search -f --action intent_failed`,
	},
	"grace alerts silence": {
		`grace alerts silence 'htm_orchestrator/*' --for 2h --reason "queue migration"`,
		`grace alerts silence '*' --for 4h --reason "maintenance window"`,
	},
	"grace scheduler pause": {
		`grace scheduler pause --reason "downstream outage"`,
		`grace scheduler pause --type deploy_model --reason "model rollout"`,
		`grace scheduler pause --actor agent.builder --reason "quarantine"`,
		`grace scheduler resume`,
	},
	"grace backup": {
		`grace backup /var/backups/grace-$(date +%F)`,
		`grace backup --db /srv/grace/grace.db /mnt/backups/grace --json`,
	},
	"grace audit verify": {
		`grace audit verify`,
		`grace audit verify --archive grace-data/audit-archive/*.jsonl.gz`,
	},
	"grace token new": {
		`grace token new --name agent.builder --role agent --expires 720h`,
		`grace token new --name alice --role operator --json`,
	},
	"grace health": {
		`grace health`,
		`grace health --json --server http://10.0.4.17:7420`,
	},
	"grace serve": {
		`grace serve`,
		`grace serve --config /etc/grace/config.yaml`,
		`GRACE_API_LISTEN=127.0.0.1:7500 grace serve`,
	},
	"grace console": {
		`grace console`,
		`grace console --attach http://127.0.0.1:7420`,
		`grace console --attach http://10.0.4.17:7420 --readonly`,
	},
}

// setExamples gives every command of root named in examples its Example
// section.
func setExamples(root *cobra.Command) {
	if lines, ok := examples[root.CommandPath()]; ok {
		root.Example = "  " + strings.Join(lines, "\n  ")
	}
	for _, c := range root.Commands() {
		setExamples(c)
	}
}
