package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
)

// tokenListEntry is one row of "token list --json".
type tokenListEntry struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// TokenSHA256Prefix is the first 12 hex digits of the token's hash:
	// enough to tell entries apart, never the token.
	TokenSHA256Prefix string `json:"token_sha256_prefix"`
	// Expires is identities[].expires as configured ("" for never);
	// State is valid, expiring (within a week) or expired.
	Expires string `json:"expires,omitempty"`
	State   string `json:"state"`
}

// expiringWithin is how far ahead token list calls a token expiring, as
// the server's log warns.
const expiringWithin = 7 * 24 * time.Hour

func (a *app) tokenListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the configured identities: name, role, token hash prefix, and when each token expires",
		Long: `List the identities of the config (the file, environment and --set, as
grace serve would read them): each one's name, role, the first 12 hex
digits of its token's SHA-256, and whether its token is valid, expiring
within a week, or expired (its requests are refused), with when. Reads
the config only: no server is asked and no token is shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			now := time.Now()
			entries := make([]tokenListEntry, 0, len(cfg.Identities))
			for _, id := range cfg.Identities {
				e := tokenListEntry{Name: id.Name, Role: id.Role, TokenSHA256Prefix: id.TokenSHA256[:min(len(id.TokenSHA256), 12)], Expires: id.Expires, State: "valid"}
				if at, err := engine.ParseExpires(id.Expires); err == nil && !at.IsZero() {
					switch {
					case !at.After(now):
						e.State = "expired"
					case at.Sub(now) <= expiringWithin:
						e.State = "expiring"
					}
				}
				entries = append(entries, e)
			}
			if a.json {
				return a.writeJSON(map[string]any{"identities": entries})
			}
			if len(entries) == 0 {
				fmt.Fprintln(a.stdout, "no identities configured: the API accepts only the data folder's local token (api.token), on loopback")
				return nil
			}
			rows := [][]string{{"NAME", "ROLE", "TOKEN SHA-256", "EXPIRES", "STATE"}}
			for _, e := range entries {
				rows = append(rows, []string{e.Name, e.Role, e.TokenSHA256Prefix + "…", expiresText(e.Expires, now), e.State})
			}
			a.table(rows)
			return nil
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

// expiresText is a configured expiry with how far off it is.
func expiresText(expires string, now time.Time) string {
	at, err := engine.ParseExpires(expires)
	if expires == "" || err != nil || at.IsZero() {
		return "never"
	}
	if d := at.Sub(now); d <= 0 {
		return fmt.Sprintf("%s (%s ago)", at.UTC().Format(time.RFC3339), roughly(-d))
	}
	return fmt.Sprintf("%s (in %s)", at.UTC().Format(time.RFC3339), roughly(at.Sub(now)))
}

// roughly is d in days and hours from two days up, else in hours and
// minutes.
func roughly(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
	return strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s")
}
