package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// configFuzzSeeds are nasty config files: bytes the YAML reader and the
// strict decoder must refuse clearly, not choke on.
var configFuzzSeeds = []string{
	"", "\x00", "htm: {warn_depth: 5}\x00", "\xff\xfe", "\xef\xbb\xbfhtm:\n  warn_depth: 100\n", "htm:\r\n  warn_depth: 100\r\n",
	"log: {level: \xc3\x28}\n", "- a\n- b\n", "htm: [", "{{{{", "htm: {warn_depth: 5}\nhtm: {capacity: 9}\n", "HTM: {}\nhtm: {}\n",
	"\thtm: {}\n", "htm:\n\twarn_depth: 5\n", "---\nhtm: {}\n---\ndb: x\n", "db: ~\n", "db: 5\n", "db: [a]\n", "db: {a: b}\n",
	"htm: {warn_depth: 99999999999999999999}\n", "htm: {warn_depth: -9223372036854775808}\n", "htm: {warn_depth: 9.3e18}\n",
	"htm: {warn_depth: 1e400}\n", "cortex: {rate: .nan}\n", "cortex: {rate: .inf}\n", "cortex: {rate: -.inf}\n", "workers: {task_timeout: 9999999999h}\n",
	"workers: {task_timeout: 1e3}\n", "workers: {task_timeout: -1s}\n", "store: {batch_wait: 0x10}\n", "cortex: {enabled: yes}\n",
	"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
	"htm: &a {x: *a}\n", "cortex: {mix: &m {a: 1, b: *m}}\n", "masking: {fields: &f [*f]}\n",
	strings.Repeat("[", 10000), strings.Repeat("a: {", 3000) + "b: 1" + strings.Repeat("}", 3000), strings.Repeat("- ", 5000) + "x",
	"? [a]\n: b\n", "? {a: b}\n: c\n", "1: x\n", "true: x\n", "~: x\n", "!!binary aGk=: x\n", "db: !!binary aGk=\n", "db: !!int 5\n",
	"htm.warn_depth: 5\n", "handlers: {default: {kind: sim, latency: 5ms}, Default: {kind: sim}}\n", "handlers: {}\n", "handlers: ~\n",
	"cortex: {mix: {}}\n", "cortex: {mix: {\"a.b\": 1}}\n", "cortex: {mix: {\"\": 1}}\n", "governance: {tiers: {tier_2: \"a, b\"}}\n",
	"governance: {tiers: {tier_2: [[a]]}}\n", "identities: [{name: ada, role: operator, token_sha256: " + strings.Repeat("ab", 32) + ", expires: 2027-01-31}]\n",
	"identities: [{name: ada, role: operator, token_sha256: x, expires: 2027-01-31T00:00:00Z}]\n", "identities: {a: b}\n",
	"notify: {webhooks: [{name: w, url: \"https://u:hunter2@h.example/x?t=1\"}]}\n", "api: {server: \"http://u:p@127.0.0.1:1\"}\n", "api: {server: \"http://127.0.0.1:7420/?\"}\n", "api: {server: \"http://127.0.0.1:7420#\"}\n",
	"api: {server: \"http://127.0.0.1:99999\"}\n",
	"api: {listen: \"0.0.0.0:0\"}\n", "api: {token: \"a b\"}\n", "safeguards: {bus_acl: false}\n", "safeguards: {nope: {enabled: true}}\n",
	"kernels: {list: {a: {b: 1}}}\n", "policy: {rules: {x: y}}\n", "log: {level: \"\"}\n", "db: \"\"\n", "db: \"a\\u0000b\"\n",
}

// configEnvKeys are variables a fuzzed value is given to, by the fuzzed
// index: keys of each type, a map entry, a list, a section, no key.
var configEnvKeys = []string{"", "GRACE_HTM_WARN_DEPTH", "GRACE_CORTEX_ENABLED", "GRACE_CORTEX_RATE", "GRACE_STORE_BATCH_WAIT",
	"GRACE_DB", "GRACE_API_LISTEN", "GRACE_API_SERVER", "GRACE_API_TOKEN", "GRACE_CORTEX_MIX_DEPLOY", "GRACE_GOVERNANCE_TIERS_TIER_2",
	"GRACE_MASKING_FIELDS", "GRACE_MASKING", "GRACE_SAFEGUARDS_BUS_ACL_ENABLED", "GRACE_HTM_WARN_DEPT", "GRACE_LOG_LEVEL"}

// FuzzConfigFile loads a fuzzed config file, with a fuzzed value in one
// GRACE_ variable, as every command does: no panic and no hang (an alias
// bomb included); every line of a refusal names the file or the
// variable that set the value at fault; and a config that loads names
// an api.server the CLI can send requests to, and is shown by "grace
// config show" without error.
func FuzzConfigFile(f *testing.F) {
	real, err := os.ReadFile(repoConfig)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real, uint8(0), "")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		f.Fatal(err)
	}
	for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1) {
		f.Add(block[1], uint8(0), "")
	}
	for _, s := range configFuzzSeeds {
		f.Add([]byte(s), uint8(0), "")
	}
	for i, v := range []string{"", " ", "5", "x", "1e400", "99999999999999999999", "true", "2s", "[a, b", "a,b", "\xff", "127.0.0.1:1", "http://x"} {
		f.Add([]byte("htm: {warn_depth: 100}\n"), uint8(i+1), v)
	}
	f.Fuzz(func(t *testing.T, data []byte, envIndex uint8, envValue string) {
		env := configEnvKeys[int(envIndex)%len(configEnvKeys)]
		if env != "" && !strings.ContainsRune(envValue, 0) {
			t.Setenv(env, envValue)
		} else {
			env = ""
		}
		path := filepath.Join(t.TempDir(), "grace.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(configInput{File: path, Warn: func(string) {}})
		if err != nil {
			sources := []string{path + ": ", "read config " + path + ": "}
			if env != "" {
				sources = append(sources, env+": ", env+" names ")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				i := slices.IndexFunc(sources, func(s string) bool { return strings.HasPrefix(line, s) })
				if i < 0 {
					t.Fatalf("refusal line %q names neither %s nor %q", line, path, env)
				}
				if strings.TrimSpace(strings.TrimPrefix(line, sources[i])) == "" {
					t.Fatalf("refusal line %q says nothing after its source", line)
				}
			}
			var ue *usageError
			if errors.As(err, &ue) {
				t.Fatalf("a config file's problem reads as a usage error: %v", err)
			}
			return
		}
		if cfg.API.Server != "" {
			if err := checkServerURL("api.server", cfg.API.Server); err != nil {
				t.Fatalf("a config that loads names a server the CLI cannot use: %v", err)
			}
		}
		var stdout, stderr bytes.Buffer
		if code := run([]string{"config", "show", "--json", "--config", path}, &stdout, &stderr); code != exitOK {
			t.Fatalf("a config that loads: config show exits %d: %s", code, stderr.String())
		}
		var rep configShowReport
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.File != path || len(rep.Keys) == 0 {
			t.Fatalf("config show --json: %v, file %q, %d keys:\n%s", err, rep.File, len(rep.Keys), stdout.String())
		}
	})
}

// TestConfigNestedTooDeep: a file of mappings nested thousands deep (12
// KB) is refused at once, naming where it goes too deep; viper took
// over a minute over it before finding an unknown key.
func TestConfigNestedTooDeep(t *testing.T) {
	path := writeConfig(t, strings.Repeat("a: {", 3000)+"b: 1"+strings.Repeat("}", 3000))
	_, err := loadConfig(configInput{File: path})
	want := path + `: key "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a": mappings nest more than 16 deep here; no config key is that deep`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
