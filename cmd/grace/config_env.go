package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"grace/engine/worker"
)

// handlerEnv are the GRACE_ variables the exec handler gives the commands
// it runs (engine/worker); a grace started by such a command sees them,
// and they are not config keys.
var handlerEnv = map[string]bool{"GRACE_INTENT_ID": true, "GRACE_INTENT_TYPE": true, "GRACE_ACTOR": true,
	worker.EnvOwner: true, worker.EnvOwnerProcess: true}

// unknownEnv returns a warning for each GRACE_ variable in environ that
// names no config key among keys (viper's, dotted and lower case), with
// the nearest variable that does when one is close: a mistyped
// GRACE_HTM_WARN_DEPT would otherwise be ignored without a word.
func unknownEnv(environ, keys []string) []string {
	known := make(map[string]bool, len(keys))
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		n := envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		known[n] = true
		names = append(names, n)
	}
	sort.Strings(names)
	sections := envSections(keys)
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix+"_") || known[name] || handlerEnv[name] || sections[name] != "" {
			continue
		}
		msg := name + " names no config key and is ignored"
		if near := nearest(name, names); near != "" {
			msg += "; did you mean " + near + "?"
		}
		out = append(out, msg)
	}
	sort.Strings(out)
	return out
}

// envSections maps the GRACE_ variable of each section among keys (every
// dotted prefix of a key: GRACE_MASKING for masking.fields,
// GRACE_KERNELS_LIST_MEMORY for kernels.list.memory.critical) to the
// section.
func envSections(keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		for i := strings.IndexByte(k, '.'); i >= 0; i = nextDot(k, i) {
			out[envName(k[:i])] = k[:i]
		}
	}
	return out
}

func nextDot(s string, i int) int {
	if j := strings.IndexByte(s[i+1:], '.'); j >= 0 {
		return i + 1 + j
	}
	return -1
}

// maxSuggestedKeys bounds the keys a refused section variable lists.
const maxSuggestedKeys = 6

// sectionEnv returns an error line for each GRACE_ variable in environ
// that names a section among keys rather than a key. viper reads such a
// variable as the whole section's value: every key under it then reads
// as unset, so GRACE_MASKING=x would turn masking off and
// GRACE_POLICY_RULES=x drop every rule. It is refused instead, naming the
// keys it could set.
func sectionEnv(environ, keys []string) []string {
	sections := envSections(keys)
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		section := sections[name]
		if section == "" {
			continue
		}
		var under []string
		for _, k := range keys {
			if strings.HasPrefix(k, section+".") {
				under = append(under, envName(k))
			}
		}
		sort.Strings(under)
		more := ""
		if len(under) > maxSuggestedKeys {
			more = fmt.Sprintf(" and %d more", len(under)-maxSuggestedKeys)
			under = under[:maxSuggestedKeys]
		}
		out = append(out, fmt.Sprintf("%s names the section %s, not a key (it would unset every key in it): set one of its keys instead (%s%s)",
			name, section, strings.Join(under, ", "), more))
	}
	sort.Strings(out)
	return out
}

// envWarnings is unknownEnv over the process's environment.
func envWarnings(keys []string) []string { return unknownEnv(os.Environ(), keys) }

// nearest returns the name in names closest to s, if within 3 edits.
func nearest(s string, names []string) string {
	best, bestD := "", 4
	for _, n := range names {
		if d := editDistance(s, n, bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
