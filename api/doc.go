// Package api is the client side of the miniais v1 REST API, plus the wire
// types that the client and the servers (proxy, target) share.
//
// # Wire types
//
// wire.go holds the JSON and msgpack shapes of requests and replies
// (ActionMsg, ListObjsMsg, LsoResult, BucketEntry, HTTPError), the header,
// query parameter and path names, and StatusOf: the one place where the
// cluster error kinds become HTTP status codes. Servers write errors with
// WriteError; the client turns every non-2xx reply back into an *HTTPError
// that errors.Is matches against the cluster sentinels.
//
// # Client
//
// Client talks to a proxy's public endpoint. Object requests follow the
// proxy's 307 redirect to the owning target; PutObject never buffers an
// object in memory (see PutObject for how bodies that cannot be re-sent are
// handled). A Client is safe for concurrent use.
package api
