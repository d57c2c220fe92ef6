package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/trace"

	"miniais/tracing/jaegerquery"
)

// Polling of Jaeger by --show-trace.
const (
	// showTraceWait bounds how long --show-trace waits for the trace to be
	// complete in Jaeger.
	showTraceWait = 5 * time.Second
	// showTracePoll is the interval between two polls.
	showTracePoll = 250 * time.Millisecond
	// jaegerTimeout bounds one request to Jaeger.
	jaegerTimeout = 5 * time.Second
)

func (e *Env) jaegerURL() string {
	if u := strings.TrimRight(e.getenv(EnvJaegerURL), "/"); u != "" {
		return u
	}
	return DefaultJaegerURL
}

func (e *Env) width() int {
	if e.WaterfallWidth > 0 {
		return e.WaterfallWidth
	}
	return 100
}

// jaeger returns the client of Jaeger's query API at $AIS_JAEGER_URL.
func (e *Env) jaeger() *jaegerquery.Client {
	hc := e.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: jaegerTimeout}
	}
	return jaegerquery.New(e.jaegerURL(), hc)
}

func traceShow(r *runner, c *ucli.Context) error {
	id := strings.ToLower(c.Args().First())
	if b, err := hex.DecodeString(id); err != nil || (len(b) != 16 && len(b) != 8) {
		return usagef("%q is not a trace ID (32 hex digits)", c.Args().First())
	}
	tr, err := r.env.jaeger().Trace(r.ctx, id)
	if err != nil {
		return err
	}
	return RenderWaterfall(r.stdout, *tr, r.env.width())
}

// reportTrace prints the trace ID and its Jaeger URL on stderr and, with
// show, waits for the trace in Jaeger and draws it.
func reportTrace(ctx context.Context, env *Env, sc trace.SpanContext, show bool) {
	if !sc.IsValid() || !sc.IsSampled() {
		fmt.Fprintln(env.Stderr, "Warning: no trace was recorded")
		return
	}
	id, base := sc.TraceID().String(), env.jaegerURL()
	fmt.Fprintf(env.Stderr, "Trace ID: %s\nJaeger: %s/trace/%s\n", id, base, id)
	if !show {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), showTraceWait+jaegerTimeout)
	defer cancel()
	tr, complete, err := waitForTrace(ctx, env.jaeger(), id, showTraceWait)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Warning: cannot show the trace: %v\n", err)
		return
	}
	if !complete {
		fmt.Fprintf(env.Stderr, "(the trace may be incomplete: it was still growing after %s)\n", showTraceWait)
	}
	if err := RenderWaterfall(env.Stderr, tr, env.width()); err != nil {
		fmt.Fprintf(env.Stderr, "Warning: %v\n", err)
	}
}

// waitForTrace polls Jaeger until the trace is complete (every client span
// that got a response has a child span, the servers' side) and its span
// count held still between two polls, or until wait has passed; it then
// returns the last version seen.
func waitForTrace(ctx context.Context, jc *jaegerquery.Client, id string, wait time.Duration) (jaegerquery.Trace, bool, error) {
	deadline := time.Now().Add(wait)
	var last jaegerquery.Trace
	var lastErr error
	prev := -1
	for {
		tr, err := jc.Trace(ctx, id)
		switch {
		case err == nil:
			last, lastErr = *tr, nil
			if len(tr.Spans) == prev && traceComplete(*tr) {
				return *tr, true, nil
			}
			prev = len(tr.Spans)
		case errors.Is(err, jaegerquery.ErrTraceNotFound):
			lastErr = err
		default:
			return jaegerquery.Trace{}, false, err
		}
		if time.Now().Add(showTracePoll).After(deadline) {
			if lastErr != nil {
				return jaegerquery.Trace{}, false, lastErr
			}
			return last, false, nil
		}
		select {
		case <-ctx.Done():
			return last, false, ctx.Err()
		case <-time.After(showTracePoll):
		}
	}
}

// traceComplete tells whether every client span that received an HTTP
// response is matched by a server span: each hop is served by one server
// span, whose parent is the client span of that hop (a redirected hop too:
// the node's span links to the redirecting node's span).
func traceComplete(tr jaegerquery.Trace) bool {
	answered, served := 0, 0
	for i := range tr.Spans {
		s := &tr.Spans[i]
		switch s.TagString("span.kind") {
		case "client":
			if s.TagString("http.response.status_code") != "" {
				answered++
			}
		case "server":
			if strings.HasPrefix(s.OperationName, "transport.") {
				continue // intra-cluster messages, not HTTP hops
			}
			served++
		}
	}
	return served >= answered
}
