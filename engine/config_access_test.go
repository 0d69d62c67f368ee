package engine

import (
	"strings"
	"testing"
	"time"
)

func TestValidateAccessNamesTheKey(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("ab", 32)
	op := func(name, role, h string) IdentityConfig {
		return IdentityConfig{Name: name, Role: role, TokenSHA256: h}
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Identities = []IdentityConfig{op("", RoleOperator, hash)} }, "identities[0].name"},
		{func(c *Config) { c.Identities = []IdentityConfig{op("al ice", RoleOperator, hash)} }, `identities[0].name ("al ice")`},
		{func(c *Config) { c.Identities = []IdentityConfig{op("alice", "admin", hash)} }, `identities[0].role ("admin") must be one of agent, viewer, operator`},
		{func(c *Config) { c.Identities = []IdentityConfig{op("alice", RoleOperator, "secret")} }, "identities[0].token_sha256 must be the 64 hex digits"},
		{func(c *Config) {
			c.Identities = []IdentityConfig{op("alice", RoleOperator, hash), op("ALICE", RoleViewer, strings.Repeat("cd", 32))}
		}, `identities[1].name ("ALICE") is also the name of identities[0]`},
		{func(c *Config) {
			c.Identities = []IdentityConfig{op("alice", RoleOperator, hash), op("bob", RoleViewer, strings.ToUpper(hash))}
		}, "identities[1].token_sha256 is also the token of identities[0]"},
		{func(c *Config) { c.API.Listen = "0.0.0.0:7420" }, `api.listen ("0.0.0.0:7420") is not a loopback address`},
		{func(c *Config) { c.API.Listen = ":7420" }, `api.listen (":7420") is not a loopback address`},
		{func(c *Config) { c.API.Listen = "grace.example.com:7420" }, "is not a loopback address"},
		{func(c *Config) { c.Masking.Fields = []string{"/db/password"} }, "masking.fields[0]"},
		{func(c *Config) { c.Governance.TwoPersonTypes = []string{"query_knowledge"} }, "governance.two_person_types[0]"},
		{func(c *Config) { c.API.WriteTimeout = 0 }, "api.write_timeout (0s) must be positive"},
		{func(c *Config) {
			c.Identities = []IdentityConfig{op("alice", RoleOperator, hash), op("bob", RoleViewer, strings.Repeat("cd", 32)),
				{Name: "agent.builder", Role: RoleAgent, TokenSHA256: strings.Repeat("ef", 32), Expires: "31/01/2027"}}
		}, `identities[2].expires ("31/01/2027") must be an RFC 3339 time such as 2027-01-31T00:00:00Z`},
		{func(c *Config) {
			c.Identities = []IdentityConfig{{Name: "alice", Role: RoleOperator, TokenSHA256: hash, Expires: "2027-01-31T00:00:00"}}
		}, `identities[0].expires ("2027-01-31T00:00:00") must be an RFC 3339 time`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			cfg := Default()
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestValidateAccessAllowsWhatIsSafe(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"127.0.0.1:7420", "[::1]:7420", "localhost:7420", "127.0.0.2:0", ""} {
		cfg := Default()
		cfg.API.Listen = listen
		if err := cfg.Validate(); err != nil {
			t.Errorf("api.listen %q without identities: %v", listen, err)
		}
	}
	cfg := Default()
	cfg.API.Listen = "0.0.0.0:7420"
	cfg.Identities = []IdentityConfig{{Name: "alice", Role: RoleOperator, TokenSHA256: strings.Repeat("ab", 32)}}
	cfg.Governance.TwoPersonTypes = []string{"change_charter", "brand_new_type"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("identities on every interface: %v", err)
	}
}

func TestParseExpires(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"2027-01-31T00:00:00Z", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{" 2027-01-31T02:00:00+02:00 ", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"2027-01-31", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseExpires(tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseExpires(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"31/01/2027", "2027-01-31T00:00:00", "tomorrow", "720h", "2027-02-30"} {
		if _, err := ParseExpires(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseExpires(%q) = %v, want an error quoting it", bad, err)
		}
	}
}

func TestValidateAccessAllowsExpiredIdentities(t *testing.T) {
	t.Parallel()
	cfg := Default()
	cfg.Identities = []IdentityConfig{
		{Name: "alice", Role: RoleOperator, TokenSHA256: strings.Repeat("ab", 32), Expires: "2020-01-01T00:00:00Z"},
		{Name: "bob", Role: RoleOperator, TokenSHA256: strings.Repeat("cd", 32), Expires: "2099-12-31"},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("an expired and a dated identity: %v", err)
	}
}
