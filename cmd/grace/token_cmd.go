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
	"strings"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
)

// tokenCommand is "grace token": make identities' tokens and check them.
func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make API tokens for identities, hash them, and ask a server who a token is",
		Long: `Make API tokens for the identities config section and check them.

"token new" prints a fresh token once, with the identities entry to paste into
config.yaml (Grace keeps only the token's SHA-256). "token hash" prints the
SHA-256 of an existing token. "token whoami" asks the server (api.server, or
--server) which identity the CLI's token (api.token, GRACE_API_TOKEN, or the
data folder's api.token) belongs to.`,
		RunE: groupRun,
	}
	cmd.AddCommand(a.tokenNewCommand(), a.tokenHashCommand(), a.tokenWhoamiCommand())
	return cmd
}

// tokenIdentity is "token new --json"'s document.
type tokenIdentity struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Token       string `json:"token"`
	TokenSHA256 string `json:"token_sha256"`
}

func (a *app) tokenNewCommand() *cobra.Command {
	var name, role string
	cmd := &cobra.Command{
		Use:   "new --name N --role agent|viewer|operator",
		Short: "Print a new token and its identities entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(engine.Roles, role) {
				return usageErrorf("--role %q: want one of %s", role, strings.Join(engine.Roles, ", "))
			}
			cfg := engine.Default()
			cfg.Identities = []engine.IdentityConfig{{Name: name, Role: role, TokenSHA256: strings.Repeat("0", 64)}}
			if err := cfg.Validate(); err != nil {
				return usageErrorf("--name %q: %v", name, firstLine(err))
			}
			var raw [32]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return fmt.Errorf("generate token: %w", err)
			}
			id := tokenIdentity{Name: name, Role: role, Token: "grace_" + hex.EncodeToString(raw[:])}
			id.TokenSHA256 = httpapi.TokenHash(id.Token)
			if a.json {
				return a.writeJSON(id)
			}
			fmt.Fprintf(a.stdout, "token: %s\n\n# give the token to %s; Grace keeps only its hash. Add to config.yaml:\nidentities:\n  - {name: %s, role: %s, token_sha256: %s}\n",
				id.Token, name, name, role, id.TokenSHA256)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "who the identity is on the record (required)")
	cmd.Flags().StringVar(&role, "role", "", "agent, viewer or operator (required)")
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
			if err != nil {
				return fmt.Errorf("ask %s: %w", url, err)
			}
			if a.json {
				return a.writeJSON(who)
			}
			fmt.Fprintf(a.stdout, "%s (%s)\n", who.Name, who.Role)
			return nil
		},
	}
	cmd.Flags().StringVar(&a.server, "server", "", "URL of a running grace serve (default: config api.server)")
	a.addJSONFlag(cmd)
	return cmd
}

// firstLine is the first line of err's message.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
