package server

import (
	"net/url"
	"strings"
)

// QueryGet returns the first value of key in the raw (still escaped) query
// raw, "" when it has none: what url.ParseQuery(raw).Get(key) returns, for
// every raw, without building the url.Values map. It allocates only to
// unescape a key or value that has '%' or '+'. Handlers that read one or
// two parameters use it on r.URL.RawQuery instead of r.URL.Query(), which
// parses the whole query each time it is called.
func QueryGet(raw, key string) string {
	v, _ := queryLookup(raw, key)
	return v
}

// QueryHas reports whether the raw query raw has key: what
// url.ParseQuery(raw).Has(key) reports, without building the map.
func QueryHas(raw, key string) bool {
	_, ok := queryLookup(raw, key)
	return ok
}

// queryLookup finds the first pair of raw whose key is key, skipping the
// pairs that url.ParseQuery skips (a ';' in the pair, a key or value that
// does not unescape), and finds nothing in a query of more than
// maxQueryParams pairs, which url.ParseQuery refuses whole.
func queryLookup(raw, key string) (string, bool) {
	if strings.Count(raw, "&") >= maxQueryParams {
		return "", false
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, ok := unescapeQuery(k)
		if !ok || k != key {
			continue
		}
		if v, ok = unescapeQuery(v); ok {
			return v, true
		}
	}
	return "", false
}

// maxQueryParams is net/url's default limit on the pairs of a query
// (GODEBUG urlmaxqueryparams, which miniais does not set).
const maxQueryParams = 10000

// unescapeQuery is url.QueryUnescape, returning s itself (no allocation)
// when it has nothing to unescape.
func unescapeQuery(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
