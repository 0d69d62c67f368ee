package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"grace/engine"
	"grace/engine/yamldoc"
)

// FileError is a scenario file that was refused: File names it, Field the
// field at fault ("" when the file does not parse at all).
type FileError struct {
	File  string
	Field string
	Err   error
}

func (e *FileError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("scenario %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("scenario %s: %s: %v", e.File, e.Field, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// Library is the loaded scenarios, sorted by ID, and the files refused.
type Library struct {
	Scenarios []*Scenario
	// Refused holds one *FileError per file that was not loaded; the
	// others load and run regardless.
	Refused []error
}

// Suggest returns the ID of a scenario the operator may have meant by id,
// one that is not in the library, or "": the scenario whose ID differs only
// in case, else the one scenario whose ID holds id (case aside).
func (l *Library) Suggest(id string) string {
	if id == "" {
		return ""
	}
	var holds []string
	for _, s := range l.Scenarios {
		if strings.EqualFold(s.ID, id) {
			return s.ID
		}
		if strings.Contains(strings.ToLower(s.ID), strings.ToLower(id)) {
			holds = append(holds, s.ID)
		}
	}
	if len(holds) == 1 {
		return holds[0]
	}
	return ""
}

// NotFound words a scenario ID that is not in the library, with the
// library's likely match when there is one.
func (l *Library) NotFound(id string) string {
	if m := l.Suggest(id); m != "" {
		return fmt.Sprintf("no scenario %q: did you mean %s? (scenario IDs are case-sensitive)", id, m)
	}
	return fmt.Sprintf("no scenario %q", id)
}

// Get returns the scenario with the ID, or nil.
func (l *Library) Get(id string) *Scenario {
	for _, s := range l.Scenarios {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// ScoreLevel is the level a result counts at in the resilience score
// (Score's level): the level its scenario's parameters actually took at
// its difficulty (Scenario.UsedLevel), never above maxDifficulty when that
// is above 0 (chaos.loop.max_difficulty: a run stored before that bound
// was applied may have asked for more). A scenario no longer in the
// library counts at its difficulty, so bounded.
func (l *Library) ScoreLevel(maxDifficulty int) func(engine.ChaosResult) int {
	return func(res engine.ChaosResult) int {
		d := max(res.Difficulty, 1)
		if maxDifficulty > 0 {
			d = min(d, maxDifficulty)
		}
		if sc := l.Get(res.ID); sc != nil {
			return sc.UsedLevel(d)
		}
		return d
	}
}

// Load reads every *.yaml file at the top of each fsys in turn; a scenario
// from a later fsys replaces one with the same ID from an earlier one (so
// chaos.scenarios_dir overrides the embedded library). A file that does
// not parse or validate is refused (Library.Refused) naming the file and
// field, and so are two files of one fsys with the same ID, each naming
// the other: which one was meant is not for the loader to guess. A refused
// file overrides nothing. The error return is for a folder that cannot be
// read.
func Load(fsyss ...fs.FS) (*Library, error) {
	lib := &Library{}
	byID := map[string]*Scenario{}
	for _, fsys := range fsyss {
		names, err := fs.Glob(fsys, "*.yaml")
		if err != nil {
			return nil, fmt.Errorf("list scenario files: %w", err)
		}
		misnamed, err := misnamedFiles(fsys)
		if err != nil {
			return nil, err
		}
		lib.Refused = append(lib.Refused, misnamed...)
		var parsed []*Scenario
		files := map[string][]string{} // ID → the files that give it
		for _, name := range names {
			// Only regular files: a named pipe would block the read, and a
			// folder named *.yaml is not a scenario.
			st, err := fs.Stat(fsys, name)
			if err == nil && !st.Mode().IsRegular() {
				lib.Refused = append(lib.Refused, &FileError{File: name, Err: errors.New("not a regular file")})
				continue
			}
			var b []byte
			if err == nil {
				b, err = fs.ReadFile(fsys, name)
			}
			if err != nil {
				// One file that cannot be read (a broken symbolic link,
				// no permission) is refused; the library still loads.
				lib.Refused = append(lib.Refused, &FileError{File: name, Err: unreadable(fsys, name, err)})
				continue
			}
			sc, err := Parse(name, b)
			if err != nil {
				lib.Refused = append(lib.Refused, err)
				continue
			}
			parsed = append(parsed, sc)
			key := strings.ToLower(sc.ID)
			files[key] = append(files[key], name)
		}
		for _, sc := range parsed {
			if same := files[strings.ToLower(sc.ID)]; len(same) > 1 {
				others := slices.DeleteFunc(slices.Clone(same), func(f string) bool { return f == sc.Source })
				lib.Refused = append(lib.Refused, &FileError{File: sc.Source, Field: "id",
					Err: fmt.Errorf("%q is also the id of %s, case aside: a scenario ID must be unique, so no file with it is loaded", sc.ID, strings.Join(others, ", "))})
				continue
			}
			if prev := caseTwin(byID, sc.ID); prev != nil {
				// An override whose ID is spelled in another case would
				// run beside the scenario it was meant to replace.
				lib.Refused = append(lib.Refused, &FileError{File: sc.Source, Field: "id",
					Err: fmt.Errorf("%q differs only in case from %s (%s): to replace that scenario, give its exact ID; to add another, choose an ID that differs by more than case",
						sc.ID, prev.ID, prev.Source)})
				continue
			}
			byID[sc.ID] = sc
		}
	}
	for _, sc := range byID {
		lib.Scenarios = append(lib.Scenarios, sc)
	}
	sort.Slice(lib.Scenarios, func(i, j int) bool { return lib.Scenarios[i].ID < lib.Scenarios[j].ID })
	return lib, nil
}

// misnamedFiles refuses the files at the top of fsys that were surely
// meant as scenarios but are not loaded, being named .yml or .YAML rather
// than .yaml: left out without a word, the operator would take the
// scenario for loaded.
func misnamedFiles(fsys fs.FS) ([]error, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list scenario files: %w", err)
	}
	var out []error
	for _, e := range entries {
		name := e.Name()
		ext := path.Ext(name)
		if ext == ".yaml" || (!strings.EqualFold(ext, ".yaml") && !strings.EqualFold(ext, ".yml")) {
			continue
		}
		out = append(out, &FileError{File: name, Err: fmt.Errorf("not loaded: only files named *.yaml are scenarios (rename it %s.yaml)", strings.TrimSuffix(name, ext))})
	}
	return out, nil
}

// unreadable words why the scenario file name of fsys could not be read:
// a symbolic link to nothing is named with its target.
func unreadable(fsys fs.FS, name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		if target, lerr := fs.ReadLink(fsys, name); lerr == nil {
			return fmt.Errorf("cannot be read: it is a symbolic link to %s, which does not exist", target)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot be read: %w", err)
}

// caseTwin returns the scenario in byID whose ID equals id but for case,
// or nil.
func caseTwin(byID map[string]*Scenario, id string) *Scenario {
	for other, sc := range byID {
		if other != id && strings.EqualFold(other, id) {
			return sc
		}
	}
	return nil
}

// Parse decodes and validates one scenario file. Unknown fields are
// refused. Errors are *FileError naming file and field.
func Parse(file string, b []byte) (*Scenario, error) {
	if err := notUTF8(b); err != nil {
		return nil, &FileError{File: file, Err: err}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{File: file, Err: errors.New("holds no scenario: the file is empty or only comments")}
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			if fe := typeErrorAt(file, b, te); fe != nil {
				return nil, fe
			}
		}
		// One line, as every refusal is: yaml lists its errors a line each.
		return nil, &FileError{File: file, Field: fieldOf(err), Err: errors.New(oneLine(err.Error()))}
	}
	if err := yamldoc.Single(dec, "a scenario file"); err != nil {
		return nil, &FileError{File: file, Err: err}
	}
	sc.Source = file
	if sc.SteadyState == nil {
		sc.SteadyState = slices.Clone(DefaultSteadyState)
	}
	if err := sc.validate(); err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.File = file
		}
		return nil, err
	}
	return &sc, nil
}

// oneLine joins a multi-line message into one line.
func oneLine(msg string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, ":\n", ": ")), " ")
}

// notUTF8 refuses a file that is not UTF-8 (yaml's own error names
// neither line nor byte), naming the line, column and byte at fault. A
// file that begins with a UTF-16 byte order mark is left to yaml, which
// reads UTF-16.
func notUTF8(b []byte) error {
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) || utf8.Valid(b) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Errorf("line %d, column %d: byte 0x%02X is not UTF-8: save the file as UTF-8", line, col, b[i])
		}
		if r == '\n' {
			line, col = line+1, 0
		}
		i += size
		col++
	}
	return nil
}

// fieldOf pulls the field out of yaml's "field X not found" errors.
func fieldOf(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "field "); i >= 0 {
		rest := msg[i+len("field "):]
		if j := strings.Index(rest, " "); j > 0 {
			return rest[:j]
		}
	}
	return ""
}

// validID is a scenario ID: one word that is safe as a folder name.
var validID = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// validate checks the scenario, naming the first field at fault.
func (s *Scenario) validate() error {
	bad := func(field, format string, a ...any) error {
		return &FileError{Field: field, Err: fmt.Errorf(format, a...)}
	}
	switch {
	case strings.TrimSpace(s.ID) == "":
		return bad("id", "is required")
	case !validID.MatchString(s.ID):
		return bad("id", "%q must be one word of letters, digits, _ . and - (it names the run's folder)", s.ID)
	case !slices.Contains(Categories, s.Category):
		return bad("category", "%q is not one of %s", s.Category, strings.Join(Categories, ", "))
	case strings.TrimSpace(s.Description) == "":
		return bad("description", "is required: say what the scenario proves")
	case len(s.Faults) == 0:
		return bad("faults", "at least one fault is required")
	case len(s.Safeguards.Expected) == 0:
		return bad("safeguards.expected", "at least one safeguard is required")
	case s.Deadline < 0:
		return bad("deadline", "(%v) must not be negative", s.Deadline)
	case s.Deadline > 0 && s.Deadline < MinDeadline:
		return bad("deadline", "(%v) must be at least %v (or left out: %v): too short for its safeguards to fire and the queue to drain, so the scenario would fail on time alone",
			s.Deadline, MinDeadline, (&Scenario{}).deadline())
	case s.Deadline > MaxDeadline:
		return bad("deadline", "(%v) must be at most %v: a run waits on it for the safeguards and again for the steady state, and a safeguard that does not fire would hold the run (and the loop's next slots) that long",
			s.Deadline, MaxDeadline)
	}
	used := map[string]bool{}
	for i, f := range s.Faults {
		k, ok := faultKinds[f.Kind]
		if !ok {
			return bad(fmt.Sprintf("faults[%d].kind", i), "unknown fault %q (known: %s)", f.Kind, strings.Join(FaultKinds(), ", "))
		}
		for _, p := range k.params {
			if _, ok := s.Parameters[p]; !ok {
				return bad("parameters."+p, "is required by fault %s", f.Kind)
			}
			used[p] = true
		}
		for _, p := range k.optional {
			used[p] = true
		}
	}
	for _, name := range sortedKeys(s.Parameters) {
		p := s.Parameters[name]
		ceil, capped := paramCeilings[name]
		switch {
		case !used[name]:
			return bad("parameters."+name, "unknown parameter: no fault of this scenario reads it")
		case !finite(p.Base):
			return bad("parameters."+name+".base", "(%v) must be a finite number", p.Base)
		case !finite(p.Growth):
			return bad("parameters."+name+".growth", "(%v) must be a finite number", p.Growth)
		case !finite(p.Max):
			return bad("parameters."+name+".max", "(%v) must be a finite number", p.Max)
		case p.Base < 0:
			return bad("parameters."+name+".base", "(%v) must not be negative", p.Base)
		case p.Growth < 0:
			return bad("parameters."+name+".growth", "(%v) must not be negative", p.Growth)
		case p.Max < 0:
			return bad("parameters."+name+".max", "(%v) must not be negative", p.Max)
		case p.Base > maxScaledParameter:
			return bad("parameters."+name+".base", "(%g) is beyond %g: no run could take it, at any difficulty", p.Base, float64(maxScaledParameter))
		case p.Max > 0 && p.Max < p.Base:
			return bad("parameters."+name+".max", "(%v) is below base (%v): the parameter would never take its base, at any difficulty", p.Max, p.Base)
		case capped && p.Base > ceil.limit:
			return bad("parameters."+name+".base", "(%v) must be at most %v: %s", p.Base, ceil.limit, ceil.why)
		case capped && p.Max > ceil.limit:
			return bad("parameters."+name+".max", "(%v) must be at most %v: %s", p.Max, ceil.limit, ceil.why)
		}
		if isShare(name) {
			switch {
			case p.Base == 0 && slices.Contains(doNothingAtZero, name):
				return bad("parameters."+name+".base", "(0) must be above 0: at 0 the fault does nothing, and the safeguard it should provoke could never fire")
			case p.Base > 1:
				return bad("parameters."+name+".base", "(%v) must be at most 1: %s is a share (0 to 1)", p.Base, name)
			case p.Max > 1:
				return bad("parameters."+name+".max", "(%v) must be at most 1: %s is a share (0 to 1)", p.Max, name)
			case p.Growth > 1 && p.Max == 0 && p.Base > 0:
				return bad("parameters."+name+".max", "is required with growth %v: %s is a share (0 to 1), and without a max it passes 1 at difficulty %d (%v)",
					p.Growth, name, firstAbove(p, 1), p.At(firstAbove(p, 1)))
			}
		}
	}
	for i, g := range s.Safeguards.Expected {
		if _, ok := detectors[g]; !ok {
			return bad(fmt.Sprintf("safeguards.expected[%d]", i), "unknown safeguard %q (known: %s)", g, strings.Join(KnownSafeguards(), ", "))
		}
	}
	if r := s.Safeguards.Require; r != "" && r != "all" && r != "any" {
		return bad("safeguards.require", "%q must be all or any", r)
	}
	if len(s.Invariants) == 0 {
		return bad("invariants", "at least one invariant is required: name those the scenario stresses (known: %s)", strings.Join(Invariants, ", "))
	}
	for i, inv := range s.Invariants {
		if !slices.Contains(Invariants, inv) {
			return bad(fmt.Sprintf("invariants[%d]", i), "unknown invariant %q (known: %s)", inv, strings.Join(Invariants, ", "))
		}
		if inv == InvariantLinearizable && !s.recordsHistory() {
			return bad(fmt.Sprintf("invariants[%d]", i), "%s is checked only on the history a Jepsen fault records (%s), and this scenario has none: it would never be checked",
				inv, strings.Join(historyFaults, ", "))
		}
	}
	for i, c := range s.SteadyState {
		if !slices.Contains(SteadyChecks, c) {
			return bad(fmt.Sprintf("steady_state[%d]", i), "unknown check %q (known: %s)", c, strings.Join(SteadyChecks, ", "))
		}
	}
	if !slices.Contains(s.SteadyState, SteadyQueueDrained) {
		return bad("steady_state", "must include %s (or be left out: %s by default): without it the run stops the engine while the faults' work is still queued, and %s counts that work as lost",
			SteadyQueueDrained, strings.Join(DefaultSteadyState, ", "), InvariantNoLost)
	}
	return s.checkEngineConfig()
}

// The bounds of a scenario file's deadline.
const (
	MinDeadline = time.Second
	MaxDeadline = time.Hour
)

// DefaultSteadyState is the steady state of a scenario file that names
// none.
var DefaultSteadyState = []string{SteadyReady, SteadySchedulerRunning, SteadyQueueDrained}

// finite reports whether v is neither infinite nor NaN.
func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

// isShare reports whether a parameter is a share of a whole (0 to 1):
// kill_share, invalid_share, error_rate and the like.
func isShare(name string) bool {
	return strings.HasSuffix(name, "_share") || name == "error_rate"
}

// doNothingAtZero are the shares at which, at 0, their fault does nothing
// at all (no worker killed, no intent cancelled).
var doNothingAtZero = []string{"kill_share", "cancel_share"}

// firstAbove returns the first difficulty at which p is above v (p grows
// without a max).
func firstAbove(p Parameter, v float64) int {
	d := 1
	for p.At(d) <= v && d < 1<<20 {
		d++
	}
	return d
}

// historyFaults are the faults that record a Jepsen history, which the
// linearizable invariant checks.
var historyFaults = []string{FaultCrashRestart, FaultStoreStall, FaultPausedApprovals}

// recordsHistory reports whether one of the scenario's faults records a
// Jepsen history.
func (s *Scenario) recordsHistory() bool {
	for _, f := range s.Faults {
		if slices.Contains(historyFaults, f.Kind) {
			return true
		}
	}
	return false
}
