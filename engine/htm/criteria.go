package htm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"grace/engine/intent"
)

// Criteria selects the queued intents that load shedding may drop. It is a
// conjunction of comparisons written as in config, for example
// "priority<5 and age>10m":
//
//	priority  the intent's priority (0–9)            < <= > >= = !=
//	age       time since it was due (10m, 90s)       < <= > >= = !=
//	tier      its autonomy tier (0–4)                < <= > >= = !=
//	attempts  attempts made so far                   < <= > >= = !=
//	type      its intent type                        = !=
//	actor     who submitted it                       = !=
//
// An intent is due from its submission, or from its not_before when that
// is later (a scheduled intent, or a retry waiting out its backoff): an
// intent scheduled for tomorrow is not old today, and one not yet due has
// a negative age. Clauses are joined by "and" (any case); "==" is the same
// as "=". The zero Criteria matches nothing.
type Criteria struct {
	clauses []clause
}

// field is what a clause compares.
type field int

const (
	fieldPriority field = iota
	fieldAge
	fieldTier
	fieldAttempts
	fieldType
	fieldActor
)

var fieldNames = map[string]field{
	"priority": fieldPriority, "age": fieldAge, "tier": fieldTier,
	"attempts": fieldAttempts, "type": fieldType, "actor": fieldActor,
}

// clause is one comparison: field op value.
type clause struct {
	field field
	name  string
	op    string
	num   int64 // priority, tier, attempts; age in nanoseconds
	text  string
}

// ops lists the comparison operators, longest first so that "<=" is not
// read as "<".
var ops = []string{"<=", ">=", "!=", "==", "<", ">", "="}

// ParseCriteria reads a shedding criteria expression. It fails on an
// empty expression, an unknown field or operator, a value of the wrong
// kind, or a string field compared by order, naming the clause at fault.
func ParseCriteria(s string) (Criteria, error) {
	if strings.TrimSpace(s) == "" {
		return Criteria{}, errors.New("criteria are empty: write clauses such as priority<5 and age>10m")
	}
	var c Criteria
	for _, part := range splitAnd(s) {
		if part == "" {
			return Criteria{}, fmt.Errorf("criteria %q: a clause is missing around \"and\"", s)
		}
		cl, err := parseClause(part)
		if err != nil {
			return Criteria{}, err
		}
		c.clauses = append(c.clauses, cl)
	}
	return c, nil
}

// splitAnd cuts s at each word "and" (any case) into its clauses.
func splitAnd(s string) []string {
	var parts []string
	var cur []string
	for _, w := range strings.Fields(s) {
		if strings.EqualFold(w, "and") {
			parts = append(parts, strings.Join(cur, " "))
			cur = cur[:0]
			continue
		}
		cur = append(cur, w)
	}
	return append(parts, strings.Join(cur, " "))
}

func parseClause(s string) (clause, error) {
	for _, op := range ops {
		i := strings.Index(s, op)
		if i < 0 {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(s[:i]))
		val := strings.TrimSpace(s[i+len(op):])
		if op == "==" {
			op = "="
		}
		f, ok := fieldNames[name]
		if !ok {
			return clause{}, fmt.Errorf("criteria %q: unknown field %q (known: priority, age, tier, attempts, type, actor)", s, name)
		}
		if val == "" {
			return clause{}, fmt.Errorf("criteria %q: no value after %s", s, op)
		}
		cl := clause{field: f, name: name, op: op}
		switch f {
		case fieldAge:
			d, err := time.ParseDuration(val)
			if err != nil {
				return clause{}, fmt.Errorf("criteria %q: age needs a duration such as 10m or 90s: %w", s, err)
			}
			cl.num = int64(d)
		case fieldType, fieldActor:
			if op != "=" && op != "!=" {
				return clause{}, fmt.Errorf("criteria %q: %s compares with = or != only", s, name)
			}
			cl.text = strings.Trim(val, `"'`)
		default:
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return clause{}, fmt.Errorf("criteria %q: %s needs a whole number, got %q", s, name, val)
			}
			cl.num = n
		}
		return cl, nil
	}
	return clause{}, fmt.Errorf("criteria %q: no comparison (use one of < <= > >= = !=)", s)
}

// Match reports whether it, queued at now, meets every clause.
func (c Criteria) Match(it intent.Intent, now time.Time) bool {
	if len(c.clauses) == 0 {
		return false
	}
	for _, cl := range c.clauses {
		if !cl.match(it, now) {
			return false
		}
	}
	return true
}

func (cl clause) match(it intent.Intent, now time.Time) bool {
	var v int64
	switch cl.field {
	case fieldType:
		return (it.Type == cl.text) == (cl.op == "=")
	case fieldActor:
		return (it.Actor == cl.text) == (cl.op == "=")
	case fieldPriority:
		v = int64(it.Priority)
	case fieldTier:
		v = int64(it.Tier)
	case fieldAttempts:
		v = int64(it.Attempts)
	case fieldAge:
		v = int64(now.Sub(Due(it)))
	}
	switch cl.op {
	case "<":
		return v < cl.num
	case "<=":
		return v <= cl.num
	case ">":
		return v > cl.num
	case ">=":
		return v >= cl.num
	case "=":
		return v == cl.num
	}
	return v != cl.num
}

// Due is when it may first run, the time its age counts from: its
// submission, or its not_before when that is later.
func Due(it intent.Intent) time.Time {
	if it.NotBefore.After(it.CreatedAt) {
		return it.NotBefore
	}
	return it.CreatedAt
}

// String writes the criteria back in canonical form, e.g.
// "priority<5 and age>10m0s".
func (c Criteria) String() string {
	parts := make([]string, len(c.clauses))
	for i, cl := range c.clauses {
		var val string
		switch cl.field {
		case fieldAge:
			val = time.Duration(cl.num).String()
		case fieldType, fieldActor:
			val = cl.text
		default:
			val = strconv.FormatInt(cl.num, 10)
		}
		parts[i] = cl.name + cl.op + val
	}
	return strings.Join(parts, " and ")
}
