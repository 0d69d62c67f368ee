package chaos

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"grace/engine"
)

// paramConfigKeys are, for each parameter a fault kind's configure reads,
// the keys of the engine under test's config it sets (IsolatedConfig): a
// key the engine's config validation refuses is laid on the parameter that
// set it. A key here stands for itself and the keys under it.
var paramConfigKeys = map[string][]string{
	"workers":               {"workers.count", "workers.max_count"},
	"task_timeout_ms":       {"workers.task_timeout"},
	"abandon_after_ms":      {"workers.abandon_after"},
	"max_attempts":          {"workers.max_attempts"},
	"auto_resume_after_ms":  {"scheduler.auto_resume_after"},
	"rate_limit_per_second": {"htm.rate_limit.global_rate"},
	"rate_limit_burst":      {"htm.rate_limit.global_burst"},
	"queue_critical":        {"htm.critical_depth", "htm.warn_depth", "htm.capacity"},
	"shed_age_ms":           {"htm.shedding.criteria"},
	"depth":                 {"policy", "mesh"},
	"handler_latency_ms":    {"handlers"},
}

// paramCeilings bound the parameters whose value sizes the engine under
// test's config itself, at load (base, max) and for a run (the value at
// its difficulty): past them building and checking that config alone
// takes minutes, at load or at the run's start.
var paramCeilings = map[string]struct {
	limit float64
	why   string
}{
	"depth": {maxCascadeDepth, "each level of the cascade is a policy rule and a mesh topic of the engine under test"},
}

// maxCascadeDepth bounds a policy_cascade's depth (policy.max_depth, 10
// by default, cuts it long before).
const maxCascadeDepth = 1000

// configProblem is one refusal of the engine's config validation for the
// engine under test: the engine's own words, and the parameter that set
// the key at fault ("" when it is none of them).
type configProblem struct {
	param string
	line  string
}

// leadingConfigKey is the config key that begins a validation message.
var leadingConfigKey = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*`)

// engineConfigProblems validates the config the engine under test of sc
// at difficulty d gets from base (IsolatedConfig) as the engine's own
// config validation does, and returns the refusals that sc's faults bring
// to it: those of base itself, with no fault applied, are not sc's. A
// parameter past its ceiling is left to paramCeilings' checks: its config
// is not built.
func engineConfigProblems(base engine.Config, sc *Scenario, d int) []configProblem {
	for name, c := range paramCeilings {
		if p, ok := sc.Parameters[name]; ok && p.At(d) > c.limit {
			return nil
		}
	}
	err := IsolatedConfig(base, "chaos-run", sc, d).Validate()
	if err == nil {
		return nil
	}
	own := refusalLines(IsolatedConfig(base, "chaos-run", &Scenario{}, d).Validate())
	var out []configProblem
	for _, line := range refusalLines(err) {
		if slices.Contains(own, line) {
			continue
		}
		out = append(out, configProblem{param: paramOfKey(sc, leadingConfigKey.FindString(line)), line: line})
	}
	return out
}

// refusalLines splits a validation error into its lines, one a problem.
func refusalLines(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// paramOfKey returns the parameter of sc that sets config key, or "".
func paramOfKey(sc *Scenario, key string) string {
	if key == "" {
		return ""
	}
	for _, name := range sortedKeys(sc.Parameters) {
		for _, k := range paramConfigKeys[name] {
			if key == k || strings.HasPrefix(key, k+".") {
				return name
			}
		}
	}
	return ""
}

// checkEngineConfig refuses a scenario whose parameters, as its file
// gives them, make a config the engine under test refuses, naming the
// parameter's field and value: at difficulty 1 (each parameter's base)
// and, for a parameter that grows to a max, at that max. The refusal came
// only when the scenario was run, as the engine under test would not
// start. A difficulty that takes a parameter past what the engine takes
// is the run's to refuse (scaleProblem, configProblemAt): at a lower one
// the scenario runs.
func (s *Scenario) checkEngineConfig() error {
	bad := func(field, format string, a ...any) error {
		return &FileError{Field: field, Err: fmt.Errorf(format, a...)}
	}
	// The operator's config is not known here: the engine's defaults stand
	// in for it. The faults set the keys they need whatever it holds.
	base := engine.Default()
	if ps := engineConfigProblems(base, s, 1); len(ps) > 0 {
		p := ps[0]
		if p.param == "" {
			return bad("parameters", "make a config the engine under test refuses: %s", p.line)
		}
		return bad("parameters."+p.param+".base", "(%v) makes a config the engine under test refuses: %s", s.Parameters[p.param].Base, p.line)
	}
	for _, name := range sortedKeys(s.Parameters) {
		p := s.Parameters[name]
		if _, sets := paramConfigKeys[name]; !sets || p.Growth <= 1 || p.Max <= p.Base {
			continue // its max is never reached, or sets no config key
		}
		atMax := *s
		atMax.Parameters = make(map[string]Parameter, len(s.Parameters))
		for k, v := range s.Parameters {
			atMax.Parameters[k] = v
		}
		atMax.Parameters[name] = Parameter{Base: p.Max}
		for _, pr := range engineConfigProblems(base, &atMax, 1) {
			if pr.param == name {
				return bad("parameters."+name+".max", "(%v), reached at difficulty %d, makes a config the engine under test refuses: %s",
					p.Max, firstAtMax(p), pr.line)
			}
		}
	}
	return nil
}

// firstAtMax returns the first difficulty at which p (growing, with a
// max above its base) is at its max.
func firstAtMax(p Parameter) int {
	d := 1
	for p.At(d) < p.Max && d < 1<<20 {
		d++
	}
	return d
}

// configProblemAt says why the engine under test of sc at difficulty d,
// configured from base, would not start because of sc's parameters, or
// returns "": a difficulty the file's values do not reach at load (a
// parameter grown past what the engine takes) is refused before the run,
// naming the scenario, difficulty, parameter, value and file.
func configProblemAt(base engine.Config, sc *Scenario, d int) string {
	ps := engineConfigProblems(base, sc, d)
	if len(ps) == 0 {
		return ""
	}
	p := ps[0]
	if p.param == "" {
		return fmt.Sprintf("scenario %s at difficulty %d makes a config the engine under test refuses: %s (lower the difficulty, or change the scenario's parameters in %s)",
			sc.ID, d, p.line, orDefault(sc.Source, "its file"))
	}
	return fmt.Sprintf("scenario %s at difficulty %d scales parameters.%s to %g, which makes a config the engine under test refuses: %s (lower the difficulty, or change the parameter in %s)",
		sc.ID, d, p.param, sc.value(p.param, d), p.line, orDefault(sc.Source, "its file"))
}
