package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"grace/engine"
)

// repoConfig is the documented config.yaml at the repository root.
const repoConfig = "../../config.yaml"

// writeConfig writes a config file in a fresh folder and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grace.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigYAMLIsTheDefault(t *testing.T) {
	// Decoding the file alone (no built-in defaults underneath) must give
	// engine.Default(): every non-zero default is written in the file, with
	// the same value.
	_, raw, err := readConfigFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	var fromFile engine.Config
	if problems := decodeStrict(raw, &fromFile); len(problems) > 0 {
		t.Fatalf("config.yaml does not decode: %v", problems)
	}
	if want := engine.Default(); !reflect.DeepEqual(fromFile, want) {
		t.Fatalf("config.yaml and engine.Default() differ:\nfile:    %+v\ndefault: %+v", fromFile, want)
	}
	// Through the full loader too.
	cfg, err := loadConfig(configInput{File: repoConfig})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, engine.Default()) {
		t.Fatalf("loading config.yaml differs from engine.Default():\n%+v", cfg)
	}
}

func TestConfigYAMLDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := readConfigFile(repoConfig)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, key := range configKeys(reflect.TypeFor[engine.Config](), "") {
		if present(raw, strings.Split(key, ".")) {
			continue
		}
		// A field of a map entry that no entry uses (handlers.*.url) must
		// at least be described in the file's comments.
		if i := strings.LastIndex(key, "*."); i >= 0 && strings.Contains(text, key[i+2:]) {
			continue
		}
		t.Errorf("config.yaml does not document %s", key)
	}
}

// configKeys lists the config keys of t, with "*" for a map's entries.
func configKeys(t reflect.Type, prefix string) []string {
	switch t.Kind() {
	case reflect.Struct:
		var keys []string
		for i := range t.NumField() {
			tag := t.Field(i).Tag.Get("mapstructure")
			keys = append(keys, configKeys(t.Field(i).Type, prefix+tag+".")...)
		}
		return keys
	case reflect.Map:
		if k := t.Elem().Kind(); k == reflect.Struct {
			return configKeys(t.Elem(), prefix+"*.")
		}
	}
	return []string{strings.TrimSuffix(prefix, ".")}
}

// present reports whether the path (with "*" matching any entry) is in m.
func present(m any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	mm, ok := m.(map[string]any)
	if !ok {
		return false
	}
	if path[0] == "*" {
		for _, v := range mm {
			if present(v, path[1:]) {
				return true
			}
		}
		return false
	}
	v, ok := mm[path[0]]
	return ok && present(v, path[1:])
}

func TestConfigWithoutFileIsTheDefault(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := loadConfig(configInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, engine.Default()) {
		t.Fatalf("no config file: got %+v", cfg)
	}
}

func TestConfigDefaultFileIsRead(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("config.yaml", []byte("htm:\n  warn_depth: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(configInput{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTM.WarnDepth != 10 || cfg.HTM.CriticalDepth != 5000 {
		t.Fatalf("./config.yaml not layered over the defaults: %+v", cfg.HTM)
	}
}

func TestConfigBadFile(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // each an exact line after the file name and ": "
		contains   string   // or: the error contains this
	}{
		{name: "unknown key", body: "htm:\n  warn_dept: 5\n", want: []string{`unknown key "htm.warn_dept" (did you mean "htm.warn_depth"?)`}},
		{name: "unknown top-level key", body: "colour: red\n", want: []string{`unknown key "colour"`}},
		{name: "unknown handler field", body: "handlers:\n  default: {kind: sim, latncy: 5ms}\n", want: []string{`unknown key "handlers.default.latncy"`}},
		{name: "int", body: "htm:\n  warn_depth: lots\n", want: []string{`htm.warn_depth: expected an integer, got "lots"`}},
		{name: "int from float", body: "workers:\n  count: 2.5\n", want: []string{`workers.count: expected an integer, got 2.5`}},
		{name: "bool", body: "cortex:\n  enabled: sometimes\n", want: []string{`cortex.enabled: expected true or false, got "sometimes"`}},
		{name: "string", body: "log:\n  level: 5\n", want: []string{`log.level: expected a string, got 5`}},
		{name: "number", body: "cortex:\n  rate: fast\n", want: []string{`cortex.rate: expected a number, got "fast"`}},
		{name: "duration as number", body: "store:\n  batch_wait: 5\n", want: []string{`store.batch_wait: expected a duration like "2s", got 5`}},
		{name: "duration", body: "workers:\n  task_timeout: soon\n", want: []string{`workers.task_timeout: expected a duration like "2s", got "soon"`}},
		{name: "section not a mapping", body: "htm: 5\n", want: []string{`htm: expected a mapping, got 5`}},
		{name: "safeguard not a mapping", body: "safeguards:\n  bus_acl: false\n", want: []string{`safeguards.bus_acl: expected a mapping, got false`}},
		{name: "map value", body: "cortex:\n  mix:\n    query_knowledge: many\n", want: []string{`cortex.mix.query_knowledge: expected a number, got "many"`}},
		{name: "two problems", body: "htm:\n  warn_dept: 5\n  capacity: big\n", want: []string{`htm.capacity: expected an integer, got "big"`, `unknown key "htm.warn_dept" (did you mean "htm.warn_depth"?)`}},
		{name: "yaml syntax", body: "htm:\n  warn_depth: 5\n bad: [\n", contains: "line 2: did not find expected key"},
		{name: "yaml duplicate", body: "htm:\n  warn_depth: 5\n  warn_depth: 6\n", contains: `"warn_depth" already defined`},
		{name: "not a mapping", body: "- a\n- b\n", contains: "line 1: cannot unmarshal"},
		// The keys after a "---" were dropped without a word.
		{name: "second document", body: "cortex:\n  enabled: false\n---\nstore:\n  batch_max: 0\nbogus_key: 1\n",
			want: []string{`line 3: a second YAML document starts here ("---"); a config file is one document: merge its keys into the first`}},
		{name: "second document after an empty one", body: "---\n---\nhtm:\n  warn_depth: 5\n",
			want: []string{`line 2: a second YAML document starts here ("---"); a config file is one document: merge its keys into the first`}},
		{name: "keys differing in case", body: "HTM:\n  warn_depth: 5\nhtm:\n  capacity: 9\n", contains: `key "htm" is given twice`},
		{name: "invalid value", body: "htm:\n  warn_depth: 6000\n", contains: "htm.warn_depth (6000) must be below htm.critical_depth (5000)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			_, err := loadConfig(configInput{File: path})
			if err == nil {
				t.Fatal("loaded a bad config without error")
			}
			lines := errorLines(err)
			if tc.want != nil {
				if len(lines) != len(tc.want) {
					t.Fatalf("got lines %q, want %q", lines, tc.want)
				}
				for i, w := range tc.want {
					if lines[i] != path+": "+w {
						t.Errorf("line %d = %q\nwant      %q", i, lines[i], path+": "+w)
					}
				}
				return
			}
			if len(lines) != 1 || !strings.HasPrefix(lines[0], path+": ") || !strings.Contains(lines[0], tc.contains) {
				t.Fatalf("got %q, want one line naming %s and containing %q", lines, path, tc.contains)
			}
		})
	}
}

func TestConfigDocumentMarkersAlone(t *testing.T) {
	// A leading "---", an ending "..." or "---" hold no second document.
	path := writeConfig(t, "---\nhtm:\n  warn_depth: 100\n...\n---\n")
	cfg, err := loadConfig(configInput{File: path})
	if err != nil || cfg.HTM.WarnDepth != 100 {
		t.Fatalf("warn_depth %d, err %v", cfg.HTM.WarnDepth, err)
	}
}

func TestConfigMissingNamedFile(t *testing.T) {
	_, err := loadConfig(configInput{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml: no such file") {
		t.Fatalf("missing --config file: %v", err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	path := writeConfig(t, "db: file.db\nhtm:\n  warn_depth: 100\napi:\n  listen: 127.0.0.1:1111\n")
	load := func(in configInput) engine.Config {
		t.Helper()
		in.File = path
		cfg, err := loadConfig(in)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := load(configInput{})
	if cfg.HTM.WarnDepth != 100 || cfg.DB != "file.db" || cfg.API.Listen != "127.0.0.1:1111" {
		t.Fatalf("file layer: %+v %q %q", cfg.HTM, cfg.DB, cfg.API.Listen)
	}

	t.Setenv("GRACE_HTM_WARN_DEPTH", "200")
	t.Setenv("GRACE_DB", "env.db")
	t.Setenv("GRACE_API_LISTEN", "")
	t.Setenv("GRACE_CORTEX_ENABLED", "false")
	t.Setenv("GRACE_SAFEGUARDS_BUS_ACL_ENABLED", "false")
	t.Setenv("GRACE_CORTEX_MIX_EXTEND_GRACE", "7")
	t.Setenv("GRACE_GOVERNANCE_TIERS_TIER_2", "query_knowledge, my_type")
	t.Setenv("GRACE_STORE_BATCH_WAIT", "5ms")
	cfg = load(configInput{})
	if cfg.HTM.WarnDepth != 200 || cfg.DB != "env.db" || cfg.API.Listen != "" || cfg.Cortex.Enabled {
		t.Fatalf("env over file: warn %d db %q listen %q cortex %v", cfg.HTM.WarnDepth, cfg.DB, cfg.API.Listen, cfg.Cortex.Enabled)
	}
	if cfg.Safeguards["bus_acl"].Enabled || !cfg.Safeguards["htm_rate_limit"].Enabled {
		t.Fatalf("env on one safeguard: %+v", cfg.Safeguards)
	}
	if cfg.Cortex.Mix["extend_grace"] != 7 || cfg.Cortex.Mix["query_knowledge"] != 40 {
		t.Fatalf("env on one mix entry: %+v", cfg.Cortex.Mix)
	}
	if got := cfg.Governance.Tiers["tier_2"]; !reflect.DeepEqual(got, []string{"query_knowledge", "my_type"}) {
		t.Fatalf("env list: %q", got)
	}
	if cfg.Store.BatchWait != 5*time.Millisecond {
		t.Fatalf("env duration: %v", cfg.Store.BatchWait)
	}

	cfg = load(configInput{DB: "flag.db", HasDB: true, Sets: []string{"htm.warn_depth=300", "cortex.mix.new_type=1.5", "API.Listen=127.0.0.1:2222"}})
	if cfg.HTM.WarnDepth != 300 || cfg.DB != "flag.db" || cfg.Cortex.Mix["new_type"] != 1.5 || cfg.API.Listen != "127.0.0.1:2222" {
		t.Fatalf("flags over env: warn %d db %q mix %v listen %q", cfg.HTM.WarnDepth, cfg.DB, cfg.Cortex.Mix, cfg.API.Listen)
	}
}

func TestConfigMapsInTheFileReplaceTheDefaults(t *testing.T) {
	path := writeConfig(t, "cortex:\n  mix:\n    query_knowledge: 1\nsafeguards:\n  bus_acl: {enabled: false}\n")
	cfg, err := loadConfig(configInput{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Cortex.Mix, map[string]float64{"query_knowledge": 1}) {
		t.Fatalf("cortex.mix in the file should replace the default mix: %v", cfg.Cortex.Mix)
	}
	if cfg.Safeguards["bus_acl"].Enabled || !cfg.Safeguards["worker_reassignment"].Enabled || len(cfg.Safeguards) != len(engine.Default().Safeguards) {
		t.Fatalf("safeguards merge key by key: %+v", cfg.Safeguards)
	}
	if !reflect.DeepEqual(cfg.Handlers, engine.Default().Handlers) {
		t.Fatalf("handlers not in the file keep their defaults: %+v", cfg.Handlers)
	}
}

func TestConfigBadOverrides(t *testing.T) {
	path := writeConfig(t, "htm:\n  warn_depth: 100\n")
	t.Setenv("GRACE_HTM_CAPACITY", "lots")
	_, err := loadConfig(configInput{File: path})
	if got := errorLines(err); len(got) != 1 || got[0] != `GRACE_HTM_CAPACITY: htm.capacity: expected an integer, got "lots"` {
		t.Fatalf("bad env value: %q", got)
	}
	t.Setenv("GRACE_HTM_CAPACITY", "20000")

	// A value that has the right type but cannot be used names its layer too.
	t.Setenv("GRACE_API_LISTEN", "nonsense")
	_, err = loadConfig(configInput{File: path})
	if got := errorLines(err); len(got) != 1 || !strings.HasPrefix(got[0], `GRACE_API_LISTEN: api.listen ("nonsense") must be host:port`) {
		t.Fatalf("unusable env value: %q", got)
	}
	t.Setenv("GRACE_API_LISTEN", "127.0.0.1:0")
	_, err = loadConfig(configInput{File: path, Sets: []string{"workers.count=0"}})
	if got := errorLines(err); len(got) != 1 || !strings.HasPrefix(got[0], "--set workers.count: workers.count must be at least 1") {
		t.Fatalf("unusable --set value: %q", got)
	}

	// The store's limit is checked with the other keys, not when it opens.
	_, err = loadConfig(configInput{File: path, Sets: []string{"store.batch_max=70000"}})
	if got := errorLines(err); len(got) != 1 || got[0] != "--set store.batch_max: store.batch_max (70000) must be at most 65536" {
		t.Fatalf("store.batch_max past the store's limit: %q", got)
	}

	_, err = loadConfig(configInput{File: path, Sets: []string{"htm.warn_dept=5"}})
	if got := errorLines(err); len(got) != 1 || got[0] != `--set htm.warn_dept: unknown key "htm.warn_dept" (did you mean "htm.warn_depth"?)` {
		t.Fatalf("unknown --set key: %q", got)
	}
	_, err = loadConfig(configInput{File: path, Sets: []string{"cortex.enabled=maybe"}})
	if got := errorLines(err); len(got) != 1 || got[0] != `--set cortex.enabled: cortex.enabled: expected true or false, got "maybe"` {
		t.Fatalf("bad --set value: %q", got)
	}
	for _, bad := range []string{"novalue", "=5", ".a=1", "a..b=1"} {
		_, err = loadConfig(configInput{File: path, Sets: []string{bad}})
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("--set %q: %v, want a usage error", bad, err)
		}
	}
}

func TestConfigListsInFlowStyle(t *testing.T) {
	// "[a, b]" in --set or the environment is the list a, b, as the file
	// writes it, for every list-valued key: not the items "[a" and "b]".
	path := writeConfig(t, "db: x.db\n")
	t.Setenv("GRACE_GOVERNANCE_TIERS_TIER_2", "[query_knowledge, generate_summary]")
	t.Setenv("GRACE_CONSOLE_KEYS_QUIT", `[q, "]"]`) // a quoted item may hold a bracket
	cfg, err := loadConfig(configInput{File: path, Sets: []string{
		"masking.fields=[password,token]",
		"governance.two_person_types=[change_charter]",
		"mesh.topics=[]",
		"handlers.probe.kind=exec",
		`handlers.probe.command=[sh, -c, "[ -f x ] && echo a, b"]`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"masking.fields", cfg.Masking.Fields, []string{"password", "token"}},
		{"governance.tiers.tier_2", cfg.Governance.Tiers["tier_2"], []string{"query_knowledge", "generate_summary"}},
		{"governance.two_person_types", cfg.Governance.TwoPersonTypes, []string{"change_charter"}},
		{"mesh.topics", cfg.Mesh.Topics, []string{}},
		{"console.keys.quit", cfg.Console.Keys["quit"], []string{"q", "]"}},
		{"handlers.probe.command", cfg.Handlers["probe"].Command, []string{"sh", "-c", "[ -f x ] && echo a, b"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}

	// A list written half in brackets is refused, naming the key.
	for _, c := range []struct{ set, want string }{
		{"masking.fields=[password, token", `--set masking.fields: masking.fields: "[password, token" is not a list`},
		{"masking.fields=password,token]", `--set masking.fields: masking.fields: list item "token]" holds a bracket`},
		{"governance.tiers.tier_2=[[query_knowledge]]", `--set governance.tiers.tier_2: governance.tiers.tier_2: "[[query_knowledge]]": a list item must be a single value`},
	} {
		_, err := loadConfig(configInput{File: path, Sets: []string{c.set}})
		if got := errorLines(err); len(got) != 1 || !strings.HasPrefix(got[0], c.want) {
			t.Errorf("--set %s: %q, want %q", c.set, got, c.want)
		}
	}
	t.Setenv("GRACE_MASKING_FIELDS", "[password")
	_, err = loadConfig(configInput{File: path})
	if got := errorLines(err); len(got) != 1 || !strings.HasPrefix(got[0], `GRACE_MASKING_FIELDS: masking.fields: "[password" is not a list`) {
		t.Errorf("GRACE_MASKING_FIELDS=[password: %q", got)
	}
}
