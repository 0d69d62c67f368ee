package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"grace/engine"
	"grace/engine/httpapi"
)

// tokenCommand is "grace token": make identities' tokens and check them.
func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make API tokens for identities, hash them, list them, and ask a server who a token is",
		Long: `Make API tokens for the identities config section and check them.

"token new" prints a fresh token once, with the identities entry to paste into
config.yaml (Grace keeps only the token's SHA-256); with --expires, the entry
says when the token stops being accepted. "token hash" prints the
SHA-256 of an existing token. "token whoami" asks the server (api.server, or
--server) which identity the CLI's token (api.token, GRACE_API_TOKEN, or the
data folder's api.token) belongs to. "token list" lists the configured
identities with their roles and when their tokens expire.`,
		RunE: groupRun,
	}
	cmd.AddCommand(a.tokenNewCommand(), a.tokenHashCommand(), a.tokenWhoamiCommand(), a.tokenListCommand())
	return cmd
}

// tokenIdentity is "token new --json"'s document.
type tokenIdentity struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Token       string `json:"token"`
	TokenSHA256 string `json:"token_sha256"`
	// Expires is identities[].expires: empty when the token never expires.
	Expires string `json:"expires,omitempty"`
}

// parseExpiresFlag reads token new's --expires: a duration from now
// ("720h", printed as now+d in UTC, to the second) or a time as
// identities[].expires takes it (an RFC 3339 time or a date, printed as
// given). Empty means never. A value that is neither, or not in the
// future, is a usage error naming the flag.
func parseExpiresFlag(v string, now time.Time) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return "", usageErrorf("--expires %q: a duration must be positive", v)
		}
		return now.Add(d).UTC().Truncate(time.Second).Format(time.RFC3339), nil
	}
	at, err := engine.ParseExpires(v)
	if err != nil {
		return "", usageErrorf("--expires %q: want a duration from now such as 720h, an RFC 3339 time such as 2027-01-31T00:00:00Z, or a date such as 2027-01-31", v)
	}
	if !at.After(now) {
		return "", usageErrorf("--expires %q is not in the future (now is %s): the token would be refused from the start", v, now.UTC().Format(time.RFC3339))
	}
	return v, nil
}

func (a *app) tokenNewCommand() *cobra.Command {
	var name, role, expires string
	cmd := &cobra.Command{
		Use:   "new --name N --role agent|viewer|operator [--expires DURATION|TIME]",
		Short: "Print a new token and its identities entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(engine.Roles, role) {
				return usageErrorf("--role %q: want one of %s", role, strings.Join(engine.Roles, ", "))
			}
			exp, err := parseExpiresFlag(expires, time.Now())
			if err != nil {
				return err
			}
			cfg := engine.Default()
			cfg.Identities = []engine.IdentityConfig{{Name: name, Role: role, TokenSHA256: strings.Repeat("0", 64), Expires: exp}}
			if err := cfg.Validate(); err != nil {
				// The reason is said of the flag, not of a config entry the
				// operator has not written yet.
				reason := strings.TrimPrefix(firstLine(err), fmt.Sprintf("identities[0].name (%q) ", name))
				return usageErrorf("--name %q %s", name, reason)
			}
			var raw [32]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return fmt.Errorf("generate token: %w", err)
			}
			id := tokenIdentity{Name: name, Role: role, Token: "grace_" + hex.EncodeToString(raw[:]), Expires: exp}
			id.TokenSHA256 = httpapi.TokenHash(id.Token)
			if a.json {
				return a.writeJSON(id)
			}
			entry := fmt.Sprintf("{name: %s, role: %s, token_sha256: %s}", yamlScalar(name), role, yamlScalar(id.TokenSHA256))
			if exp != "" {
				entry = fmt.Sprintf("{name: %s, role: %s, token_sha256: %s, expires: %q}", yamlScalar(name), role, yamlScalar(id.TokenSHA256), exp)
			}
			fmt.Fprintf(a.stdout, "token: %s\n\n# give the token to %s; Grace keeps only its hash. Add to config.yaml:\nidentities:\n  - %s\n",
				id.Token, name, entry)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "who the identity is on the record (required)")
	cmd.Flags().StringVar(&role, "role", "", "agent, viewer or operator (required)")
	cmd.Flags().StringVar(&expires, "expires", "", "when the token stops being accepted: a duration from now (720h) or an RFC 3339 time (2027-01-31T00:00:00Z); default never")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("role")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) tokenHashCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "hash [TOKEN]",
		Short: "Print the SHA-256 of a token (read from stdin without TOKEN)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tok string
			if len(args) == 1 {
				tok = args[0]
			} else {
				sc := bufio.NewScanner(cmd.InOrStdin())
				if sc.Scan() {
					tok = sc.Text()
				}
			}
			if tok = strings.TrimSpace(tok); tok == "" {
				return usageErrorf("no token given (as an argument or on stdin)")
			}
			fmt.Fprintln(a.stdout, httpapi.TokenHash(tok))
			return nil
		},
	}
}

func (a *app) tokenWhoamiCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Ask the server which identity the CLI's token is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			url := a.serverURL(cfg)
			if url == "" {
				return errors.New("no server configured (api.server, or --server)")
			}
			tok, err := clientToken(cfg)
			if err != nil {
				return err
			}
			c := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout})
			ctx, cancel := context.WithTimeout(cmd.Context(), clientTimeout)
			defer cancel()
			who, err := c.WhoAmI(ctx)
			if errors.Is(err, syscall.ECONNREFUSED) {
				return fmt.Errorf("no server answers at %s: token whoami asks a running grace serve or console; start one, or name it with --server", url)
			}
			if refused := a.tokenRefused(url, err); refused != nil {
				return refused
			}
			if err != nil {
				return fmt.Errorf("ask %s: %w", url, err)
			}
			if a.json {
				return a.writeJSON(who)
			}
			if who.Expires == nil {
				fmt.Fprintf(a.stdout, "%s (%s)\n", who.Name, who.Role)
				return nil
			}
			fmt.Fprintf(a.stdout, "%s (%s), token expires %s (%s)\n", who.Name, who.Role, who.Expires.Format(time.RFC3339), untilText(time.Until(*who.Expires)))
			return nil
		},
	}
	cmd.Flags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	return cmd
}

// yamlScalar is s as YAML reads it back as the string s: quoted where it
// would read as something else (a name "null", "true" or "no", a hash
// of digits only), plain otherwise.
func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSpace(string(out))
}

// firstLine is the first line of err's message.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// untilText says how long until an instant d away: minutes, hours, then
// days.
func untilText(d time.Duration) string {
	switch {
	case d <= 0:
		return "expired"
	case d < time.Hour:
		return fmt.Sprintf("in %d min", max(1, int(d/time.Minute)))
	case d < 48*time.Hour:
		return fmt.Sprintf("in %d h", int(d/time.Hour))
	}
	return fmt.Sprintf("in %d days", int(d/(24*time.Hour)))
}
