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
