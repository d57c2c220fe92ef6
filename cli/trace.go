package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/trace"
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

// errTraceNotFound means Jaeger does not (yet) have the trace.
var errTraceNotFound = errors.New("trace not found")

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

func (e *Env) jaegerClient() *http.Client {
	if e.HTTPClient != nil {
		return e.HTTPClient
	}
	return &http.Client{Timeout: jaegerTimeout}
}

// fetchTrace gets trace id from Jaeger's query API at base.
func fetchTrace(ctx context.Context, hc *http.Client, base, id string) (JaegerTrace, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/traces/"+id, nil)
	if err != nil {
		return JaegerTrace{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return JaegerTrace{}, fmt.Errorf("cannot reach Jaeger at %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return JaegerTrace{}, fmt.Errorf("%w: %s in Jaeger at %s", errTraceNotFound, id, base)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return JaegerTrace{}, fmt.Errorf("jaeger at %s: %s: %s", base, resp.Status, strings.TrimSpace(string(b)))
	}
	var jr JaegerResponse
	if err := json.NewDecoder(resp.Body).Decode(&jr); err != nil {
		return JaegerTrace{}, fmt.Errorf("decode Jaeger reply: %w", err)
	}
	for _, t := range jr.Data {
		if strings.EqualFold(strings.TrimLeft(t.TraceID, "0"), strings.TrimLeft(id, "0")) || len(jr.Data) == 1 {
			return t, nil
		}
	}
	return JaegerTrace{}, fmt.Errorf("%w: %s in Jaeger at %s", errTraceNotFound, id, base)
}

func traceShow(r *runner, c *ucli.Context) error {
	id := strings.ToLower(c.Args().First())
	if b, err := hex.DecodeString(id); err != nil || (len(b) != 16 && len(b) != 8) {
		return usagef("%q is not a trace ID (32 hex digits)", c.Args().First())
	}
	tr, err := fetchTrace(r.ctx, r.env.jaegerClient(), r.env.jaegerURL(), id)
	if err != nil {
		return err
	}
	return RenderWaterfall(r.stdout, tr, r.env.width())
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
	tr, complete, err := waitForTrace(ctx, env.jaegerClient(), base, id, showTraceWait)
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
func waitForTrace(ctx context.Context, hc *http.Client, base, id string, wait time.Duration) (JaegerTrace, bool, error) {
	deadline := time.Now().Add(wait)
	var last JaegerTrace
	var lastErr error
	prev := -1
	for {
		tr, err := fetchTrace(ctx, hc, base, id)
		switch {
		case err == nil:
			last, lastErr = tr, nil
			if len(tr.Spans) == prev && traceComplete(tr) {
				return tr, true, nil
			}
			prev = len(tr.Spans)
		case errors.Is(err, errTraceNotFound):
			lastErr = err
		default:
			return JaegerTrace{}, false, err
		}
		if time.Now().Add(showTracePoll).After(deadline) {
			if lastErr != nil {
				return JaegerTrace{}, false, lastErr
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
// span, whose parent is the client span, or, for a hop that followed a
// redirect, the server span of the node that redirected it.
func traceComplete(tr JaegerTrace) bool {
	answered, served := 0, 0
	for i := range tr.Spans {
		s := &tr.Spans[i]
		switch s.tag("span.kind") {
		case "client":
			if s.tag("http.response.status_code") != "" {
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
