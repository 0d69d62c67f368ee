package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// routeParams are the query parameters each route takes; a route not
// listed takes none. A parameter may be given once: with two values,
// which one counts would be a guess.
var routeParams = map[string][]string{
	"GET /v1/intents":         {"state", "tier", "unreviewed", "unretried", "actor", "type", "since", "before", "limit"},
	"GET /v1/intents/{id}":    {"wait"},
	"GET /v1/narratives":      {"q", "actor", "action", "intent", "since", "until", "before", "after", "limit"},
	"GET /v1/events":          {"kinds"},
	"GET /v1/chaos/runs":      {"limit"},
	"GET /v1/alerts":          {"firing"},
	"GET /v1/alerts/silences": {"all"},
}

// checkQuery refuses r's query string when it does not decode (a stray
// "%"), names a parameter the route (its pattern) does not take, or gives
// one more than once. An empty value counts as not given.
func checkQuery(r *http.Request, pattern string) *apiError {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return newError(http.StatusBadRequest, CodeBadQuery, "", "the query string does not decode: %v", err)
	}
	allowed := routeParams[pattern]
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names) // the same request always names the same parameter
	for _, name := range names {
		shown := clipText(name, 32)
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return newError(http.StatusBadRequest, CodeBadQuery, shown, "unknown query parameter %q: %s takes none", shown, pattern)
			}
			return newError(http.StatusBadRequest, CodeBadQuery, shown, "unknown query parameter %q: %s takes %s", shown, pattern, strings.Join(allowed, ", "))
		}
		if n := len(q[name]); n > 1 {
			return newError(http.StatusBadRequest, CodeBadQuery, shown, "query parameter %q is given %d times; give it once", shown, n)
		}
	}
	return nil
}
