package kernel

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"grace/engine/mesh"
)

const goodPlaybook = `id: good
intent: {type: emergency_recovery, priority: 9}
steps:
  - {name: isolate, action: isolate}
  - {name: restart, action: restart, timeout: 2s}
  - {name: verify, action: verify_heartbeat, timeout: 2s}
escalate: {after_failures: 2, severity: critical}
`

func TestTheBuiltInPlaybookLoads(t *testing.T) {
	t.Parallel()
	pbs, err := LoadPlaybooks(builtin(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pb := pbs["emergency_critical_kernel_recovery"]
	if pb == nil || pb.Intent.Type != "emergency_recovery" || pb.Escalate.AfterFailures != 3 || len(pb.Steps) != 5 {
		t.Fatalf("playbook = %+v", pb)
	}
}

func TestBadPlaybooksAreRefusedNamingTheFileAndStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"does not parse", map[string]string{"p.yaml": "id: p\nsteps: [\n"}, "playbook scenarios/playbooks/p.yaml: does not parse"},
		{"two documents", map[string]string{"p.yaml": "id: p\n---\nid: q\n"}, "playbook scenarios/playbooks/p.yaml: line 2: a second YAML document starts here"},
		{"unknown key", map[string]string{"p.yaml": "id: p\nstpes: []\n"}, "field stpes not found"},
		{"id mismatch", map[string]string{"q.yaml": goodPlaybook}, `id "good" must match the file name ("q")`},
		{"bad duration", map[string]string{"good.yaml": strings.Replace(goodPlaybook, "timeout: 2s}\n  - {name: verify", "timeout: soon}\n  - {name: verify", 1)}, `"soon" is not a duration`},
		{"bad step action", map[string]string{"good.yaml": strings.Replace(goodPlaybook, "action: isolate", "action: reboot", 1)}, `step 1 (isolate): action "reboot" is not known`},
		{"missing timeout", map[string]string{"good.yaml": strings.Replace(goodPlaybook, "action: restart, timeout: 2s", "action: restart", 1)}, "step 2 (restart): timeout is required"},
		{"verify first", map[string]string{"good.yaml": strings.Replace(goodPlaybook, "  - {name: restart, action: restart, timeout: 2s}\n", "", 1)}, "verify_heartbeat before any restart"},
		{"unknown sub-playbook", map[string]string{"good.yaml": goodPlaybook, "x.yaml": "id: x\nintent: {type: emergency_recovery}\nsteps:\n  - {name: sub, action: run_playbook, playbook: nope}\nescalate: {after_failures: 1, severity: info}\n"}, `playbook scenarios/playbooks/x.yaml: step 1 (sub): playbook "nope" is not known`},
		{"loop", map[string]string{
			"a.yaml": "id: a\nintent: {type: emergency_recovery}\nsteps:\n  - {name: to_b, action: run_playbook, playbook: b}\nescalate: {after_failures: 1, severity: info}\n",
			"b.yaml": "id: b\nintent: {type: emergency_recovery}\nsteps:\n  - {name: to_a, action: run_playbook, playbook: a}\nescalate: {after_failures: 1, severity: info}\n"},
			"playbook scenarios/playbooks/a.yaml: runs itself: a → b (step 1) → a (step 1)"},
		{"escalation", map[string]string{"good.yaml": strings.Replace(goodPlaybook, "after_failures: 2", "after_failures: 0", 1)}, "escalate.after_failures (0) must be at least 1"},
		{"intent type", map[string]string{"good.yaml": strings.Replace(goodPlaybook, "type: emergency_recovery", "type: query_knowledge", 1)}, "intent.type: query_knowledge is not Tier 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, body := range tc.files {
				fsys[n] = &fstest.MapFile{Data: []byte(body)}
			}
			_, err := LoadPlaybooks(fsys, "", func(typ string) error {
				if typ != "emergency_recovery" {
					return errors.New(typ + " is not Tier 4")
				}
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestConfigIsCheckedNamingTheKey(t *testing.T) {
	t.Parallel()
	topics, _ := mesh.NewCatalog(Topics...)
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown dependency", func(c *Config) { c.Kernels["core"] = Spec{DependsOn: []string{"dbx"}} }, `kernels.list.core.depends_on: "dbx" is not a kernel`},
		{"dependency loop", func(c *Config) { c.Kernels["db"] = Spec{DependsOn: []string{"core"}} },
			"kernels.list.core.depends_on: the kernels depend on one another in a loop: core → db → core"},
		{"self dependency", func(c *Config) { c.Kernels["db"] = Spec{DependsOn: []string{"db"}} }, "cannot depend on itself"},
		{"bad ACL topic", func(c *Config) { c.Kernels["rogue"] = Spec{Publishes: []string{"kernel.nothing"}} }, "kernels.list.rogue.publishes[0]:"},
		{"reserved name", func(c *Config) { c.Kernels[senderControlPlane] = Spec{} }, "reserved"},
		{"interval", func(c *Config) { c.HeartbeatInterval = 0 }, "kernels.heartbeat_interval (0s) must be positive"},
		{"no playbook", func(c *Config) { c.RecoveryPlaybook = "nope" }, `kernels.recovery_playbook ("nope") is not a known playbook`},
		{"playbooks dir", func(c *Config) { c.PlaybooksDir = "/does/not/exist" }, "kernels.playbooks_dir (/does/not/exist) must be a readable folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			tc.edit(&c)
			err := Check(c, topics, Options{Playbooks: builtin(t)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if err := Check(DefaultConfig(), topics, Options{Playbooks: builtin(t)}); err != nil {
		t.Fatalf("the default config: %v", err)
	}
}
