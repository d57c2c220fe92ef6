package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"miniais/internal/proc"
)

// EnvPrometheusBin names the Prometheus binary (default: prometheus on PATH, Debian's
// package).
const EnvPrometheusBin = "MINIAIS_PROMETHEUS_BIN"

// Prometheus is a Prometheus server started for one test: a process of Debian's
// `prometheus` package listening on a free 127.0.0.1 port, scraping every node that the
// proxy lists at /metrics/targets (HTTP service discovery, refreshed every second) every
// second, with exemplar storage on. It is stopped in t.Cleanup.
type Prometheus struct {
	t      testing.TB
	URL    string // "http://127.0.0.1:PORT"
	dir    string
	child  *proc.Process
	client *http.Client
}

// StartPrometheus starts Prometheus scraping the nodes of the proxy at proxyURL. Without
// a prometheus binary the test is skipped, or fails under CI (Unavailable): .ci/run
// installs the Debian package.
func StartPrometheus(t testing.TB, proxyURL string) *Prometheus {
	t.Helper()
	bin := os.Getenv(EnvPrometheusBin)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("prometheus"); err != nil {
			Unavailable(t, "no prometheus binary (install Debian's package: apt-get install prometheus, or set %s)", EnvPrometheusBin)
		}
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: miniais
    http_sd_configs:
      - url: %s/metrics/targets
        refresh_interval: 1s
`, proxyURL)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{t: t, dir: dir, client: &http.Client{Timeout: 10 * time.Second}}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		addr := FreeAddr(t)
		p.URL = "http://" + addr
		p.child, err = proc.Start(proc.Spec{Name: "prometheus", Bin: bin, LogPath: filepath.Join(dir, "prometheus.log"), Args: []string{
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--enable-feature=exemplar-storage",
		}})
		if err != nil {
			t.Fatalf("harness: start prometheus: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err = waitFor(ctx, 100*time.Millisecond, func() (bool, error) {
			if p.child.Exited() {
				return false, stopWaiting{fmt.Errorf("prometheus exited: %v: %s", p.child.ExitErr(), tailFile(filepath.Join(dir, "prometheus.log"), 5))}
			}
			resp, err := p.client.Get(p.URL + "/-/ready")
			if err != nil {
				return false, err
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, nil
		})
		cancel()
		if err == nil || !isPortClash(err) {
			break
		}
	}
	t.Cleanup(p.stop)
	if err != nil {
		t.Fatalf("harness: prometheus not ready: %v", err)
	}
	t.Logf("prometheus: %s (pid %d), scraping the nodes of %s", p.URL, p.child.PID(), proxyURL)
	return p
}

func (p *Prometheus) stop() {
	if p.t.Failed() {
		p.t.Logf("prometheus log (end):\n%s", tailFile(filepath.Join(p.dir, "prometheus.log"), 30))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.child.Terminate(ctx, 10*time.Second)
}

// get GETs the API path with query q and decodes its "data" into v.
func (p *Prometheus) get(ctx context.Context, path string, q url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("prometheus %s: %s: %w", path, resp.Status, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus %s: %s", path, env.Error)
	}
	return json.Unmarshal(env.Data, v)
}

// Sample is one series of an instant query's result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  float64
}

// Query runs an instant PromQL query (GET /api/v1/query).
func (p *Prometheus) Query(ctx context.Context, q string) ([]Sample, error) {
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		out = append(out, Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// Exemplar is one exemplar that Prometheus stored.
type Exemplar struct {
	Series map[string]string // the series' labels
	Labels map[string]string // the exemplar's own (trace_id)
	Value  float64
}

// Exemplars returns the exemplars of the series q selects between start and end
// (GET /api/v1/query_exemplars).
func (p *Prometheus) Exemplars(ctx context.Context, q string, start, end time.Time) ([]Exemplar, error) {
	var data []struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []struct {
			Labels map[string]string `json:"labels"`
			Value  string            `json:"value"`
		} `json:"exemplars"`
	}
	qs := url.Values{"query": {q}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix()+1, 10)}}
	if err := p.get(ctx, "/api/v1/query_exemplars", qs, &data); err != nil {
		return nil, err
	}
	var out []Exemplar
	for _, d := range data {
		for _, e := range d.Exemplars {
			v, _ := strconv.ParseFloat(e.Value, 64)
			out = append(out, Exemplar{Series: d.SeriesLabels, Labels: e.Labels, Value: v})
		}
	}
	return out, nil
}
