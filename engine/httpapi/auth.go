package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"grace/engine"
)

// LocalIdentity names the operator identity of the generated local token,
// used when no identities are configured.
const LocalIdentity = "local"

// Identity is one caller the API knows by the SHA-256 of its token.
type Identity struct {
	Name        string
	Role        string // engine.RoleAgent, engine.RoleOperator or engine.RoleViewer
	TokenSHA256 [sha256.Size]byte
	// Expires is the instant from which the token is refused (401
	// token_expired, on the record with the identity's name); the zero
	// time never expires.
	Expires time.Time
}

// IdentitiesFromConfig converts the identities config section. The config
// has been validated; an entry that is still unusable is an error naming it.
func IdentitiesFromConfig(cfg []engine.IdentityConfig) ([]Identity, error) {
	out := make([]Identity, 0, len(cfg))
	for i, c := range cfg {
		b, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(c.TokenSHA256)))
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("identities[%d] (%s): token_sha256 is not 64 hex digits", i, c.Name)
		}
		if !slices.Contains(engine.Roles, c.Role) {
			return nil, fmt.Errorf("identities[%d] (%s): unknown role %q", i, c.Name, c.Role)
		}
		exp, err := engine.ParseExpires(c.Expires)
		if err != nil {
			return nil, fmt.Errorf("identities[%d] (%s): expires %w", i, c.Name, err)
		}
		id := Identity{Name: c.Name, Role: c.Role, Expires: exp}
		copy(id.TokenSHA256[:], b)
		out = append(out, id)
	}
	return out, nil
}

// TokenHash returns the hex SHA-256 of a token, as identities[].token_sha256
// wants it.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// principal is the caller of one request, once its token is known.
type principal struct {
	name    string
	role    string
	local   bool      // the generated local token: it may name its operator
	expires time.Time // zero: the token never expires
	hash    [sha256.Size]byte
}

// can reports whether p's role is one of roles.
func (p principal) can(roles []string) bool { return slices.Contains(roles, p.role) }

// expiredAt reports whether p's token is refused at now: it has an expiry,
// and that instant is now or before it.
func (p principal) expiredAt(now time.Time) bool {
	return !p.expires.IsZero() && !now.Before(p.expires)
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalOf returns the caller of r; the zero principal (no role) when
// the request was not authenticated.
func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// keyring finds the identity of a bearer token. Tokens are compared by
// their SHA-256, so a lookup reveals nothing about a token but whether it
// is known.
type keyring struct {
	ids      []Identity // as given, for SetAccess to compare
	local    string     // the local token, as given
	byHash   map[[sha256.Size]byte]principal
	now      func() time.Time // the handler's clock, for expiries
	expiring bool             // some identity has an expiry
}

// newKeyring indexes ids; with none, localToken (when not empty) is an
// operator named LocalIdentity. With neither, every token is refused. now
// tells the time that identities' expiries are compared with.
func newKeyring(ids []Identity, localToken string, now func() time.Time) *keyring {
	k := &keyring{ids: ids, local: localToken, byHash: map[[sha256.Size]byte]principal{}, now: now}
	for _, id := range ids {
		k.byHash[id.TokenSHA256] = principal{name: id.Name, role: id.Role, expires: id.Expires, hash: id.TokenSHA256}
		k.expiring = k.expiring || !id.Expires.IsZero()
	}
	if len(ids) == 0 && localToken != "" {
		h := sha256.Sum256([]byte(localToken))
		k.byHash[h] = principal{name: LocalIdentity, role: engine.RoleOperator, local: true, hash: h}
	}
	return k
}

// authenticate returns the caller named by r's bearer token; ok is false
// without one, with more than one Authorization header (which one counts
// would be a guess, and a proxy may guess the other way), for a token
// nobody has, or for an expired one (Handler.ServeHTTP answers those
// token_expired before this is reached; refusing them here too keeps an
// expired token out whatever the path). fingerprint is the first 12 hex
// digits of the presented token's SHA-256 (for the record; never the
// token), given only for a refused token: a known one needs none.
func (k *keyring) authenticate(r *http.Request) (p principal, fingerprint string, ok bool) {
	h, ok := bearerHash(r)
	if !ok {
		return principal{}, "", false
	}
	if p, ok = k.byHash[h]; ok && (p.expires.IsZero() || !p.expiredAt(k.requestTime(r))) {
		return p, "", true
	}
	return principal{}, hex.EncodeToString(h[:6]), false
}

// identify returns the identity of r's bearer token, expired or not; ok is
// false when authenticate would refuse the token for any other reason.
func (k *keyring) identify(r *http.Request) (principal, bool) {
	h, ok := bearerHash(r)
	if !ok {
		return principal{}, false
	}
	p, ok := k.byHash[h]
	return p, ok
}

// bearerHash returns the SHA-256 of r's bearer token; ok is false without
// exactly one Authorization header holding a non-empty bearer token.
func bearerHash(r *http.Request) (h [sha256.Size]byte, ok bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return h, false
	}
	auth := values[0]
	const prefix = "Bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return h, false
	}
	tok := strings.TrimSpace(auth[len(prefix):])
	if tok == "" {
		return h, false
	}
	return sha256.Sum256([]byte(tok)), true
}

type requestTimeKey struct{}

// withRequestTime pins the instant at which r's token was found unexpired,
// so that every later check of the same request agrees with the first.
func withRequestTime(ctx context.Context, now time.Time) context.Context {
	return context.WithValue(ctx, requestTimeKey{}, now)
}

// requestTime is the instant pinned on r by withRequestTime, else now.
func (k *keyring) requestTime(r *http.Request) time.Time {
	if t, ok := r.Context().Value(requestTimeKey{}).(time.Time); ok {
		return t
	}
	return k.now()
}
