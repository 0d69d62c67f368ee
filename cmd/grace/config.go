package main

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/spf13/viper"

	"grace/engine"
)

// defaultConfigFile is read when --config is not given, if it exists.
const defaultConfigFile = "config.yaml"

// configFileUsed names the file loadConfig reads for --config flag: the
// flag's file when given, else ./config.yaml when it exists, else "".
func configFileUsed(flag string) string {
	if flag != "" {
		return flag
	}
	if _, err := os.Stat(defaultConfigFile); err == nil {
		return defaultConfigFile
	}
	return ""
}

// envPrefix starts every environment override: api.listen → GRACE_API_LISTEN.
const envPrefix = "GRACE"

// replacedMaps are the map-valued keys whose entries are the user's to list:
// when the config file sets one, its entries replace the defaults' instead of
// merging with them (so that a type can be dropped from cortex.mix or a
// handler removed). Environment and --set still override single entries.
// safeguards is not here: it is a fixed set of names, merged key by key.
var replacedMaps = []string{"handlers", "cortex.mix", "governance.tiers", "governance.charter", "policy.rules", "kernels.list"}

// configInput is what loadConfig layers, besides the GRACE_* environment.
type configInput struct {
	// File is --config; empty means ./config.yaml when it exists.
	File string
	// DB is --db; used when HasDB is set.
	DB    string
	HasDB bool
	// Sets are --set key=value overrides, applied last.
	Sets []string
	// Warn, when set, receives a warning for each GRACE_ variable that
	// names no config key (it is ignored, not an error: other tools may
	// set GRACE_ variables of their own).
	Warn func(string)
}

// loadConfig layers the engine's defaults < the config file < GRACE_*
// environment variables < flags (--set, --db), decodes the result strictly
// and validates it. Every problem is reported as "source: key: reason" on a
// line of its own, where source is the file, the variable or the flag that
// supplied the bad value.
func loadConfig(in configInput) (engine.Config, error) {
	file, raw, err := readConfigFile(in.File)
	if err != nil {
		return engine.Config{}, err
	}
	v := viper.New()
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AllowEmptyEnv(true) // GRACE_API_LISTEN= disables the API
	v.AutomaticEnv()

	defaults, _ := structToMap(reflect.ValueOf(engine.Default())).(map[string]any)
	for _, key := range replacedMaps {
		if hasPath(raw, key) {
			deletePath(defaults, key)
		}
	}
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	if raw != nil {
		if err := v.MergeConfigMap(raw); err != nil {
			return engine.Config{}, fmt.Errorf("%s: %w", file, err)
		}
	}

	sets := make(map[string]bool, len(in.Sets))
	for _, s := range in.Sets {
		key, val, err := parseSet(s)
		if err != nil {
			return engine.Config{}, err
		}
		sets[key] = true
		v.Set(key, val)
	}
	if in.HasDB {
		v.Set("db", in.DB)
	}

	if lines := sectionEnv(os.Environ(), v.AllKeys()); len(lines) > 0 {
		return engine.Config{}, &configError{lines: lines}
	}
	if in.Warn != nil {
		for _, w := range envWarnings(v.AllKeys()) {
			in.Warn(w)
		}
	}
	var cfg engine.Config
	problems := decodeStrict(v.AllSettings(), &cfg)
	if len(problems) > 0 {
		src := sourceNamer{file: file, sets: sets, hasDB: in.HasDB}
		known := keyPaths(defaults, "", nil)
		lines := make([]string, len(problems))
		for i, p := range problems {
			if p.unknown {
				p.near = nearest(p.key, known)
			}
			lines[i] = src.name(p.key) + ": " + p.String()
		}
		return engine.Config{}, &configError{lines: lines}
	}
	if err := cfg.Validate(); err != nil {
		// Each line starts with the key at fault ("htm.warn_depth (6000)
		// must be ..."): name the layer that set it.
		src := sourceNamer{file: file, sets: sets, hasDB: in.HasDB}
		var lines []string
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				lines = append(lines, src.name(leadingKey.FindString(line))+": "+line)
			}
		}
		return engine.Config{}, &configError{lines: lines}
	}
	return cfg, nil
}

// keyPaths appends to dst the dotted path of every key in the nested
// settings m under prefix, sections included: the keys a mistyped one is
// compared with.
func keyPaths(m map[string]any, prefix string, dst []string) []string {
	for k, val := range m {
		path := prefix + k
		dst = append(dst, path)
		if sub, ok := val.(map[string]any); ok {
			dst = keyPaths(sub, path+".", dst)
		}
	}
	return dst
}

// leadingKey matches the config key that starts a validation message.
var leadingKey = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*`)

// configError lists every problem of a configuration, one per line.
type configError struct{ lines []string }

func (e *configError) Error() string { return strings.Join(e.lines, "\n") }

// parseSet splits one --set key=value.
func parseSet(s string) (string, string, error) {
	key, val, ok := strings.Cut(s, "=")
	key = strings.ToLower(strings.TrimSpace(key))
	if !ok || key == "" || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
		return "", "", usageErrorf("--set %q: expected key=value, for example --set htm.warn_depth=500", s)
	}
	return key, val, nil
}

// sourceNamer names where a key's value came from, for error messages.
type sourceNamer struct {
	file  string
	sets  map[string]bool
	hasDB bool
}

func (s sourceNamer) name(key string) string {
	for set := range s.sets {
		if set == key || strings.HasPrefix(set, key+".") || strings.HasPrefix(key, set+".") {
			return "--set " + set
		}
	}
	if key == "db" && s.hasDB {
		return "--db"
	}
	if key != "" {
		if env := envName(key); os.Getenv(env) != "" || envSet(env) {
			return env
		}
	}
	if s.file != "" {
		return s.file
	}
	return "config"
}

func envSet(name string) bool {
	_, ok := os.LookupEnv(name)
	return ok
}

// envName is the environment variable that overrides key.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}
