package proxy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"miniais/cluster"
	"miniais/tracing"
)

// The proxy serves /metrics (AIStore's names, node_id on every series),
// lists every node for Prometheus' service discovery, and traces neither:
// an idle proxy scraped at ratio 1 records no span.
func TestProxyMetrics(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	cfg := tracing.DefaultConfig()
	cfg.Enabled = true
	tp, err := tracing.New(context.Background(), cfg, tracing.Options{Role: cluster.RoleProxy, SpanProcessor: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Shutdown(context.Background())
	p := startProxy(t, t.TempDir(), tp, time.Minute)
	a := startFakeTarget(t, "ta")
	a.join(t, p)
	rec.Reset()

	resp, body := do(t, "GET", p.url+"/metrics", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{`ais_proxy_uptime{node_id="p1"}`, `ais_proxy_state_flags{node_id="p1"} 6`,
		`ais_node_primary_info{node_id="p1",primary_id="p1"} 1`, "ais_proxy_tracing_spans_exported_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	resp, body = do(t, "GET", p.url+"/metrics/targets", "")
	var groups []sdGroup
	if err := json.Unmarshal([]byte(body), &groups); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics/targets: %d %s (%v)", resp.StatusCode, body, err)
	}
	if len(groups) != 2 || groups[0].Labels["role"] != cluster.RoleProxy || groups[1].Labels["ais_node"] != "ta" ||
		groups[1].Targets[0] != p.Smap().Targets["ta"].PublicNet.HostPort() {
		t.Fatalf("service discovery %+v", groups)
	}
	do(t, "GET", p.url+"/v1/health", "")
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans for scrapes and health checks, want 0", n)
	}
	do(t, "GET", p.url+"/v1/daemon?what=bmd", "")
	if n := len(rec.Ended()); n != 1 {
		t.Fatalf("%d spans for an operation, want 1", n)
	}
}
