package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"grace/engine/yamldoc"
)

// The actions a playbook step can take.
const (
	StepIsolate         = "isolate"          // refuse the kernel's bus traffic but its heartbeats
	StepCaptureState    = "capture_state"    // record the kernel's state, last heartbeats and diagnosis
	StepRestart         = "restart"          // stop the kernel's goroutine (within timeout) and start a new incarnation
	StepVerifyHeartbeat = "verify_heartbeat" // wait (up to timeout) for a heartbeat of the new incarnation
	StepRelease         = "release"          // lift the isolation
	StepRunPlaybook     = "run_playbook"     // run another playbook's steps here
)

// StepActions lists every step action.
var StepActions = []string{StepIsolate, StepCaptureState, StepRestart, StepVerifyHeartbeat, StepRelease, StepRunPlaybook}

// Playbook is a recovery procedure read from YAML
// (scenarios/playbooks/<id>.yaml).
type Playbook struct {
	// ID names the playbook; it is the file's name without .yaml.
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	// Trigger says what runs it (documentation).
	Trigger string `yaml:"trigger"`
	// Intent is the intent the playbook runs as.
	Intent PlaybookIntent `yaml:"intent"`
	// Steps run in order; one failing fails the attempt.
	Steps []Step `yaml:"steps"`
	// Escalate says when to give up.
	Escalate Escalation `yaml:"escalate"`
	// Source is the file it was read from.
	Source string `yaml:"-"`
}

// PlaybookIntent is the intent type and priority a playbook runs as.
type PlaybookIntent struct {
	Type     string `yaml:"type"`
	Priority int    `yaml:"priority"`
}

// Step is one step of a playbook.
type Step struct {
	Name        string   `yaml:"name"`
	Action      string   `yaml:"action"`
	Description string   `yaml:"description"`
	Timeout     Duration `yaml:"timeout"`
	// Playbook names the playbook a run_playbook step runs.
	Playbook string `yaml:"playbook"`
}

// Escalation is what happens after too many failed attempts.
type Escalation struct {
	// AfterFailures is how many attempts may fail before escalating.
	AfterFailures int `yaml:"after_failures"`
	// Severity of the escalation alert (info, warning or critical).
	Severity string `yaml:"severity"`
	// Message is told to whoever handles the escalation.
	Message string `yaml:"message"`
}

// Duration is a time.Duration written like "5s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like \"5s\"", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// LoadPlaybooks reads the *.yaml playbooks of builtin (may be nil), then
// those of dir (may be empty), which add to or replace built-in ones of the
// same id. Every playbook is checked (see Validate); intentType, when not
// nil, checks each playbook's intent type. Every problem is reported,
// naming the file and the step.
func LoadPlaybooks(builtin fs.FS, dir string, intentType func(string) error) (map[string]*Playbook, error) {
	out := map[string]*Playbook{}
	var errs []error
	read := func(fsys fs.FS, prefix string) {
		names, err := fs.Glob(fsys, "*.yaml")
		if err != nil {
			errs = append(errs, fmt.Errorf("playbooks %s: %w", prefix, err))
			return
		}
		for _, name := range names {
			data, err := fs.ReadFile(fsys, name)
			src := path.Join(prefix, name)
			if err != nil {
				errs = append(errs, fmt.Errorf("playbook %s: %w", src, err))
				continue
			}
			pb, err := ParsePlaybook(src, data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if want := strings.TrimSuffix(name, ".yaml"); pb.ID != want {
				errs = append(errs, fmt.Errorf("playbook %s: id %q must match the file name (%q)", src, pb.ID, want))
				continue
			}
			out[pb.ID] = pb
		}
	}
	if builtin != nil {
		read(builtin, "scenarios/playbooks")
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("kernels.playbooks_dir (%s) must be a readable folder", dir))
		} else {
			read(os.DirFS(dir), filepath.ToSlash(dir))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out))
	for id := range out {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := out[id].Validate(out, intentType); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := checkPlaybookLoops(out, ids); err != nil {
		return nil, err
	}
	return out, nil
}

// ParsePlaybook decodes one playbook strictly (an unknown key is an error
// with its line); src names it in errors. It does not Validate.
func ParsePlaybook(src string, data []byte) (*Playbook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var pb Playbook
	if err := dec.Decode(&pb); err != nil {
		return nil, fmt.Errorf("playbook %s: does not parse: %s", src, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", " "))
	}
	if err := yamldoc.Single(dec, "a playbook"); err != nil {
		return nil, fmt.Errorf("playbook %s: %w", src, err)
	}
	pb.Source = src
	return &pb, nil
}

// Validate checks the playbook against the others it may run: known step
// actions, timeouts where waiting is involved, a restart before any
// heartbeat verification, a run_playbook naming a known playbook, a
// positive escalation threshold.
func (pb *Playbook) Validate(all map[string]*Playbook, intentType func(string) error) error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if pb.ID == "" {
		add("id is required")
	}
	switch {
	case pb.Intent.Type == "":
		add("intent.type is required (the Tier 4 intent the playbook runs as)")
	case intentType != nil:
		if err := intentType(pb.Intent.Type); err != nil {
			add("intent.type: %v", err)
		}
	}
	if pb.Intent.Priority < 0 || pb.Intent.Priority > 9 {
		add("intent.priority (%d) must be between 0 and 9", pb.Intent.Priority)
	}
	if len(pb.Steps) == 0 {
		add("steps: a playbook needs at least one step")
	}
	restarted := false
	for i, s := range pb.Steps {
		at := fmt.Sprintf("step %d (%s)", i+1, s.Name)
		if s.Name == "" {
			add("step %d: name is required", i+1)
		}
		switch s.Action {
		case StepRestart:
			restarted = true
			if s.Timeout <= 0 {
				add("%s: timeout is required for restart (how long the old incarnation may take to stop)", at)
			}
		case StepVerifyHeartbeat:
			if s.Timeout <= 0 {
				add("%s: timeout is required for verify_heartbeat", at)
			}
			if !restarted {
				add("%s: verify_heartbeat before any restart would only see the old incarnation", at)
			}
		case StepRunPlaybook:
			switch {
			case s.Playbook == "":
				add("%s: playbook is required for run_playbook", at)
			case all[s.Playbook] == nil:
				add("%s: playbook %q is not known", at, s.Playbook)
			default:
				restarted = restarted || slices.ContainsFunc(all[s.Playbook].Steps, func(x Step) bool { return x.Action == StepRestart })
			}
		case StepIsolate, StepCaptureState, StepRelease:
		case "":
			add("%s: action is required (%s)", at, strings.Join(StepActions, ", "))
		default:
			add("%s: action %q is not known (%s)", at, s.Action, strings.Join(StepActions, ", "))
		}
		if s.Playbook != "" && s.Action != StepRunPlaybook {
			add("%s: playbook is set, but only run_playbook uses it", at)
		}
	}
	if pb.Escalate.AfterFailures < 1 {
		add("escalate.after_failures (%d) must be at least 1", pb.Escalate.AfterFailures)
	}
	if !slices.Contains([]string{"info", "warning", "critical"}, pb.Escalate.Severity) {
		add("escalate.severity (%q) must be info, warning or critical", pb.Escalate.Severity)
	}
	if len(probs) > 0 {
		return fmt.Errorf("playbook %s: %s", pb.Source, strings.Join(probs, "; "))
	}
	return nil
}

// checkPlaybookLoops refuses playbooks that run themselves through
// run_playbook steps.
func checkPlaybookLoops(all map[string]*Playbook, ids []string) error {
	var errs []error
	for _, id := range ids {
		seen := map[string]bool{id: true}
		var walk func(cur string, path []string) []string
		walk = func(cur string, path []string) []string {
			for i, s := range all[cur].Steps {
				if s.Action != StepRunPlaybook {
					continue
				}
				next := append(append([]string(nil), path...), fmt.Sprintf("%s (step %d)", s.Playbook, i+1))
				if s.Playbook == id {
					return next
				}
				if seen[s.Playbook] {
					continue
				}
				seen[s.Playbook] = true
				if loop := walk(s.Playbook, next); loop != nil {
					return loop
				}
			}
			return nil
		}
		if loop := walk(id, []string{id}); loop != nil {
			errs = append(errs, fmt.Errorf("playbook %s: runs itself: %s", all[id].Source, strings.Join(loop, " → ")))
		}
	}
	return errors.Join(errs...)
}
