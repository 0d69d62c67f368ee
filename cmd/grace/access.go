package main

import (
	"fmt"
	"log/slog"

	"grace/engine"
	"grace/engine/httpapi"
)

// apiAccess is who may use the HTTP API: the configured identities, or,
// with none, the local operator token.
type apiAccess struct {
	identities []httpapi.Identity
	localToken string
}

// prepareAccess builds the API's access from cfg: the identities section,
// or when it is empty the local token (api.token, else the data folder's
// api.token file, generated on first use, mode 0600). It refuses a
// listener beyond loopback without identities (config validation already
// does; this is the last line), and warns where the configuration is
// weaker than it looks.
func prepareAccess(cfg engine.Config, log *slog.Logger) (apiAccess, error) {
	loopback := engine.LoopbackAddr(cfg.API.Listen)
	if len(cfg.Identities) == 0 {
		if !loopback {
			return apiAccess{}, fmt.Errorf("api.listen %q is not a loopback address and no identities are configured: refusing to serve the API beyond this machine", cfg.API.Listen)
		}
		tok, err := ensureToken(cfg, log)
		if err != nil {
			return apiAccess{}, err
		}
		if len(cfg.Governance.TwoPersonTypes) > 0 {
			log.Warn("governance.two_person_types is set but no identities are configured: the local token names its operators itself, so two approvals may come from one person",
				"two_person_types", cfg.Governance.TwoPersonTypes)
		}
		return apiAccess{localToken: tok}, nil
	}
	ids, err := httpapi.IdentitiesFromConfig(cfg.Identities)
	if err != nil {
		return apiAccess{}, err
	}
	if !loopback {
		log.Warn("the HTTP API is reachable beyond this machine over plain HTTP: bearer tokens cross the network in clear unless a TLS proxy fronts it",
			"listen", cfg.API.Listen)
	}
	log.Info("HTTP API identities", "count", len(ids))
	return apiAccess{identities: ids}, nil
}
