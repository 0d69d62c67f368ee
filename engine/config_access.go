package engine

import (
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The roles an identity may have. An agent submits intents and reads its
// own; a viewer reads everything; an operator does both and also approves,
// denies, reviews and runs chaos.
const (
	RoleAgent    = "agent"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// Roles lists the roles in increasing order of power.
var Roles = []string{RoleAgent, RoleViewer, RoleOperator}

// IdentityConfig is one operator or agent allowed to use the HTTP API. The
// token itself is never configured: only the hex SHA-256 of it ("grace
// token new" makes a token and prints its hash).
type IdentityConfig struct {
	// Name is who the identity is on the record: the operator of its
	// approvals and the actor of its submissions.
	Name string `mapstructure:"name"`
	// Role is agent, operator or viewer.
	Role string `mapstructure:"role"`
	// TokenSHA256 is the lower-case hex SHA-256 of the bearer token.
	TokenSHA256 string `mapstructure:"token_sha256"`
	// Expires, when set, is the instant from which the token is refused
	// (401 token_expired): an RFC 3339 time ("2027-01-31T00:00:00Z") or a
	// date ("2027-01-31", meaning midnight UTC). Empty: it never expires.
	// An identity already expired is valid config: the server starts,
	// warns, and refuses its requests. ParseExpires reads it.
	Expires string `mapstructure:"expires"`
}

// expiresDate is the date-only form of identities[].expires.
const expiresDate = "2006-01-02"

// ParseExpires reads an identities[].expires value: an RFC 3339 time, or a
// date alone meaning midnight UTC at its start. Surrounding spaces are
// ignored. An empty value is the zero time (never expires) and no error.
// A time without a zone offset ("2027-01-31T00:00:00") is an error: which
// zone it means would be a guess.
func ParseExpires(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(expiresDate, s); err == nil {
		return t, nil // time.Parse gives a date alone in UTC
	}
	return time.Time{}, fmt.Errorf("%q must be an RFC 3339 time such as 2027-01-31T00:00:00Z, or a date such as 2027-01-31 (midnight UTC)", s)
}

// MaskingConfig names the payload and context fields whose values never
// reach the record, the API's read routes or the console.
type MaskingConfig struct {
	// Fields are key names, matched case-insensitively at any depth of
	// the payload and the context ("password"), or JSON pointers rooted at
	// /payload or /context ("/payload/db/dsn").
	Fields []string `mapstructure:"fields"`
}

// identityName is what an identity may be called: it goes on the record
// as an operator or actor name.
var identityName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:@-]{0,63}$`)

// validateAccess checks identities, masking.fields,
// governance.two_person_types and that the API is not served beyond this
// machine without identities. Each problem names its key.
func (c Config) validateAccess() []error {
	var v problems
	names := map[string]int{}
	hashes := map[string]int{}
	for i, id := range c.Identities {
		key := fmt.Sprintf("identities[%d]", i)
		if !identityName.MatchString(id.Name) {
			v.add("%s.name (%q) must be 1 to 64 characters: a letter, then letters, digits, '_', '.', ':', '@' or '-'", key, id.Name)
		} else if j, dup := names[strings.ToLower(id.Name)]; dup {
			v.add("%s.name (%q) is also the name of identities[%d]; names are compared without case", key, id.Name, j)
		} else {
			names[strings.ToLower(id.Name)] = i
		}
		if !slices.Contains(Roles, id.Role) {
			v.add("%s.role (%q) must be one of %s", key, id.Role, strings.Join(Roles, ", "))
		}
		h := strings.ToLower(strings.TrimSpace(id.TokenSHA256))
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			v.add("%s.token_sha256 must be the 64 hex digits of the token's SHA-256 (\"grace token new\" prints one)", key)
		} else if j, dup := hashes[h]; dup {
			v.add("%s.token_sha256 is also the token of identities[%d]; every identity needs its own token", key, j)
		} else {
			hashes[h] = i
		}
		if _, err := ParseExpires(id.Expires); err != nil {
			v.add("%s.expires (%q) must be an RFC 3339 time such as 2027-01-31T00:00:00Z, or a date such as 2027-01-31 (midnight UTC)", key, id.Expires)
		}
	}
	if c.API.Listen != "" && len(c.Identities) == 0 && checkHostPort(c.API.Listen) == nil && !LoopbackAddr(c.API.Listen) {
		v.add("api.listen (%q) is not a loopback address: Grace serves its API beyond this machine only to configured identities (add identities, or listen on 127.0.0.1)", c.API.Listen)
	}
	v = append(v, validateMasking(c.Masking.Fields)...)
	v = append(v, validateTwoPerson(c.Governance.TwoPersonTypes, c.Governance.Tiers)...)
	return v
}

// LoopbackAddr reports whether the host of a host:port listen address is
// a loopback address ("127.0.0.1", "[::1]", "localhost"). An empty host
// listens on every interface and is not loopback; so is any other name,
// which cannot be known to resolve to loopback only.
func LoopbackAddr(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
