package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnknownEnvNamesTheMistypedVariable(t *testing.T) {
	keys := []string{"htm.warn_depth", "api.listen", "cortex.mix.extend_grace"}
	environ := []string{
		"GRACE_HTM_WARN_DEPT=5",           // a typo: warned, with the key it meant
		"GRACE_HTM_WARN_DEPTH=9",          // a key: fine
		"GRACE_CORTEX_MIX_EXTEND_GRACE=3", // a map entry that exists: fine
		"GRACE_INTENT_ID=int_1",           // set by the exec handler for its commands: fine
		"GRACE_HANDLER_OWNER=store /x/db", // the exec handler's mark of its commands: fine
		"GRACE_SOMETHING_ELSE=1",          // nothing near: warned without a guess
		"HOME=/root", "GRACEFUL=1",        // not ours
	}
	got := unknownEnv(environ, keys)
	want := []string{
		"GRACE_HTM_WARN_DEPT names no config key and is ignored; did you mean GRACE_HTM_WARN_DEPTH?",
		"GRACE_SOMETHING_ELSE names no config key and is ignored",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("unknownEnv:\n got %q\nwant %q", got, want)
	}
}

func TestCLIWarnsOfAMistypedEnvironmentVariable(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = append(c.env, "GRACE_HTM_WARN_DEPT=5")
	r := c.run(t, "intent", "route", "--type", "query_knowledge")
	if r.code != 0 || !strings.Contains(r.stderr, "GRACE_HTM_WARN_DEPT names no config key and is ignored; did you mean GRACE_HTM_WARN_DEPTH?") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestEnvNamingASectionIsRefused(t *testing.T) {
	// viper reads GRACE_<section> as the whole section's value, leaving
	// every key under it unset: masking off, every policy rule or kernel
	// gone. Such a variable stops grace, naming the keys it could set.
	path := writeConfig(t, "db: x.db\n")
	for _, c := range []struct{ env, want string }{
		{"GRACE_MASKING", "GRACE_MASKING names the section masking, not a key (it would unset every key in it): set one of its keys instead (GRACE_MASKING_FIELDS)"},
		{"GRACE_POLICY_RULES", "GRACE_POLICY_RULES names the section policy.rules, not a key"},
		{"GRACE_KERNELS_LIST", "GRACE_KERNELS_LIST names the section kernels.list, not a key"},
		{"GRACE_KERNELS_LIST_MEMORY", "set one of its keys instead (GRACE_KERNELS_LIST_MEMORY_CRITICAL, GRACE_KERNELS_LIST_MEMORY_PUBLISHES)"},
		{"GRACE_API", "GRACE_API names the section api, not a key"},
		{"GRACE_STORE", "GRACE_STORE_BATCH_MAX"},
		{"GRACE_GOVERNANCE_TIERS", "GRACE_GOVERNANCE_TIERS_TIER_0"},
		{"GRACE_CORTEX_MIX", "GRACE_CORTEX_MIX_EXTEND_GRACE"},
	} {
		for _, val := range []string{"x", ""} {
			t.Run(c.env+"="+val, func(t *testing.T) {
				t.Setenv(c.env, val)
				_, err := loadConfig(configInput{File: path, Warn: func(w string) { t.Errorf("warned %q, want it refused", w) }})
				if got := errorLines(err); len(got) != 1 || !strings.Contains(got[0], c.want) {
					t.Fatalf("%s=%s: %q, want a line containing %q", c.env, val, got, c.want)
				}
			})
		}
	}
	// A single entry of a map-valued section still takes the environment.
	t.Setenv("GRACE_CORTEX_MIX_EXTEND_GRACE", "5")
	t.Setenv("GRACE_MASKING_FIELDS", "pin")
	cfg, err := loadConfig(configInput{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cortex.Mix["extend_grace"] != 5 || cfg.Cortex.Mix["query_knowledge"] != 40 || !reflect.DeepEqual(cfg.Masking.Fields, []string{"pin"}) {
		t.Fatalf("per-key variables: mix %v masking %q", cfg.Cortex.Mix, cfg.Masking.Fields)
	}
}

func TestCLIRefusesAnEnvironmentVariableNamingASection(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env = append(c.env, "GRACE_MASKING=x")
	r := c.run(t, "intent", "route", "--type", "query_knowledge")
	if r.code == 0 || !strings.Contains(r.stderr, "GRACE_MASKING names the section masking, not a key") || strings.Contains(r.stderr, "is ignored") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
