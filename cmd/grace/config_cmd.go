package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/chaos"
	"grace/engine/httpapi"
	"grace/engine/notify"
	"grace/store"
)

// configCommand is "grace config": check the configuration before a start
// or a SIGHUP, and show what is in effect and where each value came from.
func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration, or show the values in effect and where each came from",
		Args:  cobra.NoArgs,
		RunE:  groupRun,
	}
	check := &cobra.Command{
		Use:   "check [--json]",
		Short: "Check the configuration as grace serve would at start, changing nothing",
		Long: `Load the configuration as grace serve does (defaults < the config file <
GRACE_* environment variables < --set and --db) and check what serve checks
only at start: the API's listener and who may use it, the handlers'
programs, the webhooks and their keys, the chaos scenario library, and the
database's folder. Nothing is written: no token is generated, no database
created, no port bound. Run it before a start, or before SIGHUP reloads
the identities of a running server.

Each check prints ok, warn (serve starts, but look) or fail; the exit code
is 1 when one fails. With --json: {ok, file, checks: [{check, status,
detail}]}.`,
		Args: cobra.NoArgs,
		RunE: a.runConfigCheck,
	}
	a.addJSONFlag(check)
	show := &cobra.Command{
		Use:   "show [--json]",
		Short: "Show every key's value in effect and where it came from (default, file, environment, flag)",
		Long: `Print every configuration key with the value in effect and its source:
default, the config file, a GRACE_* environment variable, --set or --db.
Secrets are not printed: api.token shows as set, and the user and query
of a URL (a webhook's, NATS's) are hidden. With api.listen moved and
api.server left at its default, api.server shows the api.listen address
the CLI talks to. With --json: {file, keys: [{key, value, source}]}, and
on api.server then effective (the URL used) and effective_from.`,
		Args: cobra.NoArgs,
		RunE: a.runConfigShow,
	}
	a.addJSONFlag(show)
	cmd.AddCommand(check, show)
	return cmd
}

// configCheck is one line of "grace config check".
type configCheck struct {
	Check  string `json:"check"`
	Status string `json:"status"` // ok, warn or fail
	Detail string `json:"detail"`
}

// configCheckReport is "grace config check --json".
type configCheckReport struct {
	OK     bool          `json:"ok"`
	File   string        `json:"file"`
	Checks []configCheck `json:"checks"`
}

const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
)

func (a *app) runConfigCheck(cmd *cobra.Command, _ []string) error {
	file := configFileUsed(a.configFile)
	rep := configCheckReport{OK: true, File: file}
	add := func(check, status, format string, args ...any) {
		rep.Checks = append(rep.Checks, configCheck{Check: check, Status: status, Detail: fmt.Sprintf(format, args...)})
		if status == checkFail {
			rep.OK = false
		}
	}
	cfg, err := a.config(cmd)
	if err != nil {
		var ce *configError
		if !errors.As(err, &ce) {
			ce = &configError{lines: errorLines(err)}
		}
		for _, line := range ce.lines {
			add("config", checkFail, "%s", line)
		}
	} else {
		add("config", checkOK, "%s", configSources(file, a.sets, cmd.Flags().Changed("db")))
		checkAPI(cfg, add)
		checkHandlers(cfg, add)
		checkWebhooks(cfg, add)
		checkChaos(cfg, add)
		checkDatabase(cfg, add)
		checkSafeguards(cfg, add)
	}
	if a.json {
		if err := a.writeJSON(rep); err != nil {
			return err
		}
	} else {
		rows := make([][]string, 0, len(rep.Checks))
		for _, c := range rep.Checks {
			rows = append(rows, []string{c.Status, c.Check, c.Detail})
		}
		a.table(append([][]string{{"STATUS", "CHECK", "DETAIL"}}, rows...))
	}
	if !rep.OK {
		n := 0
		for _, c := range rep.Checks {
			if c.Status == checkFail {
				n++
			}
		}
		what := "the configuration"
		if file != "" {
			what = file
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: %d check(s) failed; grace serve would not start", what, n)}
	}
	if !a.json {
		fmt.Fprintln(a.stdout, "configuration OK")
	}
	return nil
}

// configSources says what the configuration was layered from.
func configSources(file string, sets []string, hasDB bool) string {
	from := "the defaults (no config file)"
	if file != "" {
		from = file
	}
	var over []string
	for _, env := range os.Environ() {
		if name, _, _ := strings.Cut(env, "="); strings.HasPrefix(name, envPrefix+"_") {
			over = append(over, name)
		}
	}
	sort.Strings(over)
	for _, s := range sets {
		key, _, _ := strings.Cut(s, "=")
		over = append(over, "--set "+strings.TrimSpace(key))
	}
	if hasDB {
		over = append(over, "--db")
	}
	if len(over) == 0 {
		return from
	}
	return from + ", with " + strings.Join(over, ", ") + " over it"
}

type addCheck func(check, status, format string, args ...any)

// checkAPI checks the listener and who may use it.
func checkAPI(cfg engine.Config, add addCheck) {
	if cfg.API.Listen == "" {
		add("api", checkOK, "disabled (api.listen is empty): grace serve needs it")
		return
	}
	if _, _, err := net.SplitHostPort(cfg.API.Listen); err != nil {
		add("api", checkFail, "api.listen %q: %v", cfg.API.Listen, err)
		return
	}
	where := "loopback only"
	loopback := engine.LoopbackAddr(cfg.API.Listen)
	if !loopback {
		where = "beyond this machine"
	}
	if len(cfg.Identities) == 0 {
		switch {
		case strings.TrimSpace(cfg.API.Token) != "":
			add("api", checkOK, "%s (%s); no identities: api.token is the one operator token", cfg.API.Listen, where)
		default:
			path := tokenPath(cfg)
			_, err := clientToken(cfg)
			switch _, statErr := os.Stat(path); {
			case err != nil:
				add("api", checkFail, "%s (%s): %v", cfg.API.Listen, where, err)
			case errors.Is(statErr, fs.ErrNotExist):
				add("api", checkOK, "%s (%s); no identities: the local token is generated into %s at the first start", cfg.API.Listen, where, path)
			default:
				add("api", checkOK, "%s (%s); no identities: the local token in %s", cfg.API.Listen, where, path)
			}
		}
		if len(cfg.Governance.TwoPersonTypes) > 0 {
			add("api", checkWarn, "governance.two_person_types is set but no identities are configured: the local token names its operators itself, so two approvals may come from one person")
		}
		return
	}
	ids, err := httpapi.IdentitiesFromConfig(cfg.Identities)
	if err != nil {
		add("api", checkFail, "%v", err)
		return
	}
	roles := map[string]int{}
	var expired, soon []string
	now := time.Now()
	for _, id := range ids {
		roles[id.Role]++
		switch exp := id.Expires; {
		case exp.IsZero():
		case !now.Before(exp):
			expired = append(expired, id.Name)
		case exp.Sub(now) < 7*24*time.Hour:
			soon = append(soon, fmt.Sprintf("%s (%s)", id.Name, exp.UTC().Format(time.RFC3339)))
		}
	}
	add("api", checkOK, "%s (%s); %d identities: %d operator(s), %d agent(s), %d viewer(s)", cfg.API.Listen, where, len(ids),
		roles[engine.RoleOperator], roles[engine.RoleAgent], roles[engine.RoleViewer])
	if len(expired) > 0 {
		add("api", checkWarn, "expired tokens, refused: %s", strings.Join(expired, ", "))
	}
	if len(soon) > 0 {
		add("api", checkWarn, "tokens expiring within 7 days: %s", strings.Join(soon, ", "))
	}
	if !loopback {
		add("api", checkWarn, "plain HTTP beyond this machine: bearer tokens cross the network in clear unless a TLS proxy fronts it")
	}
}

// checkHandlers checks that the exec handlers' programs can run here.
func checkHandlers(cfg engine.Config, add addCheck) {
	kinds := map[string]int{}
	for _, h := range cfg.Handlers {
		kinds[h.Kind]++
	}
	names := make([]string, 0, len(kinds))
	for k, n := range kinds {
		names = append(names, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(names)
	detail := fmt.Sprintf("%d intent types: %s", len(cfg.Handlers), strings.Join(names, ", "))
	if cfg.Backend.Kind == engine.BackendNATS {
		add("handlers", checkOK, "%s; backend nats: they run in grace worker processes, whose programs are checked there", detail)
		return
	}
	if err := checkHandlerPrograms(cfg); err != nil {
		add("handlers", checkFail, "%v", err)
		return
	}
	add("handlers", checkOK, "%s", detail)
}

// checkWebhooks checks notify.webhooks as serve's start does (a secret_env
// that is unset or empty fails).
func checkWebhooks(cfg engine.Config, add addCheck) {
	if len(cfg.Notify.Webhooks) == 0 {
		add("webhooks", checkOK, "none")
		return
	}
	if _, err := notify.New(cfg.Notify.Webhooks, notify.Options{}); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			add("webhooks", checkFail, "%s", line)
		}
		return
	}
	names := make([]string, len(cfg.Notify.Webhooks))
	for i, w := range cfg.Notify.Webhooks {
		names[i] = w.Name
		// serve warns of a plain http URL beyond this machine: so does
		// the check (naming the host, not the URL: it may hold a secret).
		if u, err := url.Parse(strings.TrimSpace(w.URL)); err == nil && strings.EqualFold(u.Scheme, "http") && !loopbackWebhookHost(u.Hostname()) {
			add("webhooks", checkWarn, "%s (%s): plain http beyond this machine: notifications can be read and changed on the way (use https)", w.Name, u.Host)
		}
	}
	add("webhooks", checkOK, "%d: %s", len(names), strings.Join(names, ", "))
}

// loopbackWebhookHost reports whether host is "localhost" or a loopback
// address, as the notifier judges a webhook's.
func loopbackWebhookHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkChaos loads the scenario library as a chaos run would.
func checkChaos(cfg engine.Config, add addCheck) {
	lib, err := chaos.LoadLibrary(cfg.Chaos.ScenariosDir)
	if err != nil {
		add("chaos", checkFail, "%v", err)
		return
	}
	from := "the built-in library"
	if cfg.Chaos.ScenariosDir != "" {
		from += " and " + cfg.Chaos.ScenariosDir
	}
	loop := "the chaos loop is off"
	if cfg.Chaos.Loop.Enabled {
		loop = "the chaos loop is on"
		if cfg.Chaos.Loop.Live {
			loop += ", against the live engine"
		}
	}
	add("chaos", checkOK, "%d scenarios from %s; %s", len(lib.Scenarios), from, loop)
	for _, r := range lib.Refused {
		add("chaos", checkWarn, "not loaded: %v", r)
	}
}

// checkDatabase checks the database's path and says whether it exists
// and who holds it, creating nothing.
func checkDatabase(cfg engine.Config, add addCheck) {
	st, err := os.Stat(cfg.DB)
	switch {
	case err == nil && st.IsDir():
		add("database", checkFail, "db %s is a directory, not a database file", cfg.DB)
		return
	case err == nil && !st.Mode().IsRegular():
		add("database", checkFail, "db %s is %s, not a database file", cfg.DB, store.FileKind(st.Mode()))
		return
	case err == nil:
		if err := checkSQLiteHeader(cfg.DB, st.Size()); err != nil {
			add("database", checkFail, "db %s: %v", cfg.DB, err)
			return
		}
		detail := fmt.Sprintf("%s (%s)", cfg.DB, humanBytes(st.Size()))
		if h := liveHolder(cfg.DB); h != nil {
			detail += "; open in " + h.Who()
		}
		add("database", checkOK, "%s", detail)
		return
	case !errors.Is(err, fs.ErrNotExist):
		add("database", checkFail, "db %s: %v", cfg.DB, err)
		return
	}
	// Not made yet: the nearest existing folder above it must be a folder.
	dir := filepath.Dir(cfg.DB)
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				add("database", checkFail, "db %s: %s is not a directory", cfg.DB, dir)
				return
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			add("database", checkFail, "db %s: %v", cfg.DB, err)
			return
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	add("database", checkOK, "%s does not exist yet: it is created at the first start", cfg.DB)
}

// checkSQLiteHeader refuses, as the store's open does, a file that is
// not empty and does not start as every SQLite database does.
func checkSQLiteHeader(path string, size int64) error {
	if size == 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return unwrapPathError(err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteMagic {
		return fmt.Errorf("%w (grace serve would refuse it)", store.ErrNotSQLite)
	}
	return nil
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkSafeguards names the safeguards switched off.
func checkSafeguards(cfg engine.Config, add addCheck) {
	var off []string
	for name, s := range cfg.Safeguards {
		if !s.Enabled {
			off = append(off, name)
		}
	}
	if len(off) == 0 {
		add("safeguards", checkOK, "all %d on", len(cfg.Safeguards))
		return
	}
	sort.Strings(off)
	add("safeguards", checkWarn, "off: %s", strings.Join(off, ", "))
}

// humanBytes prints n bytes in B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if f < unit {
			break
		}
		f, suffix = f/unit, s
	}
	return fmt.Sprintf("%.1f %s", f, suffix)
}

// configKey is one line of "grace config show".
type configKey struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	// Effective, for api.server left at its default while api.listen
	// was moved, is the URL the CLI talks to instead (serverURL), and
	// EffectiveFrom the key it comes from (api.listen).
	Effective     string `json:"effective,omitempty"`
	EffectiveFrom string `json:"effective_from,omitempty"`
	// root is the key of the list or map the key is an entry of ("" for
	// a key of its own): it comes from where that was set.
	root string
}

// configShowReport is "grace config show --json".
type configShowReport struct {
	File string      `json:"file"`
	Keys []configKey `json:"keys"`
}

func (a *app) runConfigShow(cmd *cobra.Command, _ []string) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	file := configFileUsed(a.configFile)
	var raw map[string]any
	if file != "" {
		if _, raw, err = readConfigFile(a.configFile); err != nil {
			return err
		}
	}
	sets := map[string]bool{}
	for _, s := range a.sets {
		if key, _, err := parseSet(s); err == nil {
			sets[key] = true
		}
	}
	hasDB := cmd.Flags().Changed("db")
	// A webhook's keys left out take their defaults at start: show those.
	hooks := make([]engine.WebhookConfig, len(cfg.Notify.Webhooks))
	for i, w := range cfg.Notify.Webhooks {
		hooks[i] = w.WithDefaults()
	}
	cfg.Notify.Webhooks = hooks
	rep := configShowReport{File: file}
	for _, kv := range flattenConfig(reflect.ValueOf(cfg), "", nil) {
		kv.Value = redactConfigValue(kv.Key, kv.Value)
		kv.Source = keySource(kv.Key, kv.root, file, raw, sets, hasDB)
		if url := a.serverURL(cfg); kv.Key == "api.server" && url != cfg.API.Server {
			kv.Effective, kv.EffectiveFrom = url, "api.listen"
		}
		rep.Keys = append(rep.Keys, kv)
	}
	if a.json {
		return a.writeJSON(rep)
	}
	rows := [][]string{{"KEY", "VALUE", "SOURCE"}}
	for _, k := range rep.Keys {
		if k.Effective != "" {
			// What the CLI uses, and why: api.server's own value is
			// the default it left.
			rows = append(rows, []string{k.Key, k.Effective, "from " + k.EffectiveFrom + " (api.server " + k.Value + " is left at its default)"})
			continue
		}
		rows = append(rows, []string{k.Key, k.Value, k.Source})
	}
	a.table(rows)
	return nil
}

// keySource names where key's value came from: a --set, --db, a GRACE_*
// variable, the config file, or the defaults. An entry of a list or a map
// (root, the list's or map's key) comes from where its list or map was
// set; a key of a section the file sets others of does not come from the
// file.
func keySource(key, root, file string, raw map[string]any, sets map[string]bool, hasDB bool) string {
	path := listRoot(key)
	for set := range sets {
		if set == path || strings.HasPrefix(path, set+".") || strings.HasPrefix(set, path+".") {
			return "--set " + set
		}
	}
	if path == "db" && hasDB {
		return "--db"
	}
	for p := path; p != ""; p = parentKey(p) {
		if env := envName(p); envSet(env) {
			return env
		}
	}
	if root == "" {
		root = path
	}
	for p := path; p != "" && len(p) >= len(root); p = parentKey(p) {
		if hasPath(raw, p) {
			return file
		}
	}
	return "default"
}

// listRoot cuts a list entry's key ("notify.webhooks[0].url") to its
// list's ("notify.webhooks").
func listRoot(key string) string {
	if i := strings.IndexByte(key, '['); i >= 0 {
		return key[:i]
	}
	return key
}

// parentKey is key without its last part ("" at the top).
func parentKey(key string) string {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return ""
	}
	return key[:i]
}

// flattenConfig appends to dst every leaf of the config value v under
// prefix: structs by their mapstructure tags, maps by sorted key, lists
// of structs by index (key[i].field), other lists and scalars as values.
func flattenConfig(v reflect.Value, prefix string, dst []configKey) []configKey {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch v.Kind() {
	case reflect.Struct:
		if _, ok := v.Interface().(time.Time); ok {
			break
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("mapstructure"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			dst = flattenConfig(v.Field(i), join(tag), dst)
		}
		return dst
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
		if len(keys) == 0 {
			return append(dst, configKey{Key: prefix, Value: "{}"})
		}
		for _, k := range keys {
			n := len(dst)
			dst = flattenConfig(v.MapIndex(k), join(strings.ToLower(fmt.Sprint(k.Interface()))), dst)
			setRoot(dst[n:], prefix)
		}
		return dst
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			if v.Len() == 0 {
				return append(dst, configKey{Key: prefix, Value: "[]"})
			}
			for i := range v.Len() {
				n := len(dst)
				dst = flattenConfig(v.Index(i), fmt.Sprintf("%s[%d]", prefix, i), dst)
				setRoot(dst[n:], prefix)
			}
			return dst
		}
		items := make([]string, v.Len())
		for i := range v.Len() {
			items[i] = showConfigScalar(v.Index(i).Interface())
		}
		return append(dst, configKey{Key: prefix, Value: "[" + strings.Join(items, ", ") + "]"})
	}
	return append(dst, configKey{Key: prefix, Value: showConfigScalar(v.Interface())})
}

// setRoot marks keys as entries of the list or map root; called for a
// list or map inside an entry of another first, the outermost one stays.
func setRoot(keys []configKey, root string) {
	for i := range keys {
		keys[i].root = root
	}
}

// showConfigScalar prints a value as config.yaml would hold it: strings
// quoted when empty or when spaces or quotes would hide their ends.
func showConfigScalar(x any) string {
	switch x := x.(type) {
	case string:
		if x == "" || strings.TrimSpace(x) != x || strings.ContainsAny(x, "\",[]{}#") {
			return strconv.Quote(x)
		}
		return x
	case time.Duration:
		return x.String()
	case time.Time:
		if x.IsZero() {
			return `""`
		}
		return x.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(x)
}

// redactConfigValue hides secrets: api.token shows only whether it is set,
// a URL (a webhook's, the NATS server's, api.server) loses its user,
// query and the path segments that look like keys (engine.MaskURL), a
// token hash is cut short.
func redactConfigValue(key, value string) string {
	switch {
	case key == "api.token":
		if value == `""` {
			return value
		}
		return "(set)"
	case (strings.HasSuffix(key, ".url") || key == "api.server") && value != `""`:
		s, err := strconv.Unquote(value)
		if err != nil {
			s = value
		}
		return redactURLs(s)
	case strings.HasSuffix(key, ".token_sha256") && len(value) > 12:
		return value[:12] + "…"
	}
	return value
}

// redactURLs shows s, a URL or comma-separated URLs (a NATS cluster),
// without their users, queries, fragments and keys in their paths.
func redactURLs(s string) string {
	const unparsed = "(set; not shown: it does not parse as a URL)"
	parts := strings.Split(s, ",")
	hidden := false
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			return unparsed
		}
		user := u.User != nil
		hidden = hidden || user || u.RawQuery != "" || u.Fragment != ""
		u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
		shown := u.String()
		if strings.Contains(shown, "@") {
			// A user the parser did not take as one (in the path, or
			// an opaque URL) could be a password.
			return unparsed
		}
		if masked := engine.MaskURL(shown); masked != shown { // a key or an ID in the path
			shown, hidden = masked, true
		}
		if user && u.Scheme != "" && u.Host != "" {
			shown = u.Scheme + "://***@" + strings.TrimPrefix(shown, u.Scheme+"://")
		}
		parts[i] = shown
	}
	shown := strings.Join(parts, ",")
	if hidden {
		shown += " (user, query, fragment or keys in the path not shown)"
	}
	return shown
}
