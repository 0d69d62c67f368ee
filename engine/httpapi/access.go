package httpapi

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"grace/engine"
)

// SetAccess replaces who may use the API, as NewHandler's
// Options.Identities and Options.Token do, for every request from now on:
// a token removed stops working at once, an added one starts, and an open
// event stream whose token is gone, or whose identity has another name or
// role, ends. It returns what changed, by identity name, for the record.
// Requests already past their token check finish as they began.
func (h *Handler) SetAccess(ids []Identity, localToken string) engine.AccessChange {
	next := newKeyring(ids, localToken, h.clock.Now)
	old := h.keys.Swap(next)
	h.warnExpiries(ids)
	h.endStreamsNotIn(next)
	h.signalAccess()
	return diffAccess(old, next)
}

// diffAccess says what a keyring swap changed, by identity name.
func diffAccess(old, next *keyring) engine.AccessChange {
	byName := func(k *keyring) map[string]Identity {
		m := map[string]Identity{}
		for _, id := range k.ids {
			m[id.Name] = id
		}
		if len(k.ids) == 0 && k.local != "" {
			m[LocalIdentity] = Identity{Name: LocalIdentity, Role: engine.RoleOperator, TokenSHA256: hashOf(k.local)}
		}
		return m
	}
	was, now := byName(old), byName(next)
	var c engine.AccessChange
	for _, name := range sortedNames(now) {
		id := now[name]
		prev, ok := was[name]
		if !ok {
			c.Added = append(c.Added, fmt.Sprintf("%s (%s)", name, id.Role))
			continue
		}
		if prev.Role != id.Role {
			c.Changed = append(c.Changed, fmt.Sprintf("%s: role %s → %s", name, prev.Role, id.Role))
		}
		if prev.TokenSHA256 != id.TokenSHA256 {
			c.Changed = append(c.Changed, name+": new token")
		}
		if !prev.Expires.Equal(id.Expires) {
			c.Changed = append(c.Changed, fmt.Sprintf("%s: expires %s → %s", name, expiryText(prev.Expires), expiryText(id.Expires)))
		}
	}
	for _, name := range sortedNames(was) {
		if _, ok := now[name]; !ok {
			c.Removed = append(c.Removed, fmt.Sprintf("%s (%s)", name, was[name].Role))
		}
	}
	c.Identities = len(now)
	return c
}

func sortedNames(m map[string]Identity) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// endStreamsNotIn ends the open streams whose token k no longer knows, or
// knows as another identity or role.
func (h *Handler) endStreamsNotIn(k *keyring) {
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	for ls := range h.streams {
		q, ok := k.byHash[ls.p.hash]
		if ok && q.name == ls.p.name && q.role == ls.p.role {
			continue
		}
		h.log.Info("event stream ended: its token no longer grants it", "identity", ls.p.name)
		ls.cancel()
		h.forgetStream(ls)
	}
}

// hashOf is the SHA-256 of a token.
func hashOf(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }
