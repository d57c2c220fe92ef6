package tracing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Who may decide that a request is traced:
//
//   - a cluster member: a request whose trace context carries a signature
//     made with the cluster secret (the proxy's redirect query, an HTTP
//     request between nodes), or a transport peer (the handshake proved
//     the secret). Its decision is followed as it is, without limit;
//   - a trusted client (Config.TrustedClients, by address): its
//     "Ais-Trace-Force: true" and its sampled traceparent are honoured,
//     at most Config.TrustedRate new traces per second per node; beyond
//     that the node's ratio decides (the client's span stays the parent);
//   - anyone else: the request starts a trace of its own, sampled by the
//     ratio, with a link to the client's span context. A stranger cannot
//     raise the tracing bill, nor join a trace of ours.
//
// Without a cluster secret the signature is made with an empty key: it
// tells the nodes' own requests from a naive client's, not from an
// attacker's, just as the transport then admits every peer.

// Signature carriers: the query key of a redirect and the header of a
// request between nodes.
const (
	// QueryTraceSig is the redirect query key that signs traceparent.
	QueryTraceSig = "tracesig"
	// HeaderTraceSig is the request header that signs the traceparent
	// header of a request between nodes.
	HeaderTraceSig = "Ais-Trace-Sig"
)

// TailAttribute marks the spans that the tail rule kept: its value is
// "error" (the request failed) or "slow" (it took at least the latency
// threshold).
const TailAttribute = "ais.tail"

// TraceIDHeader is the response header that carries the trace ID of a
// failed request whose trace is recorded (its JSON error body carries it
// as trace_id too).
const TraceIDHeader = "Ais-Trace-Id"

// ErrorKindHeader is the response header in which a node names the kind of
// error of a failed request (cluster.Kinds' wire name, e.g. "not-found").
// Server and client spans take it as error.type, and metrics count errors
// by it.
const ErrorKindHeader = "Ais-Error-Kind"

// signer signs and verifies trace contexts with the cluster secret.
type signer struct{ key []byte }

// sign returns the signature of a trace context sent with a request of
// method to path (the escaped URL path): hex of the first 16 bytes of
// HMAC-SHA256. Binding the path means a signature seen on one request
// cannot vouch for another object's.
func (s signer) sign(traceparent, tracestate, method, path string) string {
	m := hmac.New(sha256.New, s.key)
	for _, part := range []string{"ais-trace-v1", traceparent, tracestate, method, path} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// verify reports whether sig signs the trace context.
func (s signer) verify(sig, traceparent, tracestate, method, path string) bool {
	if sig == "" || traceparent == "" {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign(traceparent, tracestate, method, path)))
}

// parseNets parses Config.TrustedClients: IP addresses and CIDR prefixes.
func parseNets(items []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		if strings.Contains(it, "/") {
			p, err := netip.ParsePrefix(it)
			if err != nil {
				return nil, fmt.Errorf("%w: trusted_clients %q: %w", ErrConfig, it, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(it)
		if err != nil {
			return nil, fmt.Errorf("%w: trusted_clients %q: not an IP address or CIDR prefix", ErrConfig, it)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trust decides which clients are trusted; its zero value trusts none.
type trust struct {
	nets  []netip.Prefix
	limit *limiter
}

// trusted tells whether the client at remoteAddr ("ip:port") is trusted.
func (t *trust) trusted(remoteAddr string) bool {
	if t == nil || len(t.nets) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range t.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allow takes one token of the rate limit of trusted clients' traces.
func (t *trust) allow() bool { return t != nil && t.limit.allow(time.Now()) }

// limiter is a token bucket: rate tokens per second, at most burst held.
// It is safe for concurrent use.
type limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// newLimiter returns a full bucket of rate tokens per second (burst: one
// second's worth, at least 1).
func newLimiter(rate float64) *limiter {
	b := max(rate, 1)
	return &limiter{rate: rate, burst: b, tokens: b}
}

// allow takes a token if there is one.
func (l *limiter) allow(now time.Time) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
