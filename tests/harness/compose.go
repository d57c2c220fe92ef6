package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/cluster"
)

// ComposeTargets is the number of targets in playground/compose.yaml.
const ComposeTargets = 3

// Compose is the containerized cluster of playground/compose.yaml (proxy, target1..3,
// jaeger) started for one test under a unique project name, with every host port picked
// free on 127.0.0.1. Methods are safe for concurrent use.
type Compose struct {
	t       testing.TB
	cmd     []string // docker-compose, or docker compose
	project string
	file    string
	env     []string
	client  *http.Client

	mu    sync.Mutex
	ports map[string]int // "service:containerPort" -> host port
}

// StartCompose builds what is missing (the aisnode image with playground/compose.sh image
// unless MINIAIS_AISNODE_IMAGE is set; the Jaeger image unless MINIAIS_JAEGER_IMAGE is set),
// runs `docker-compose up -d` (or `docker compose`: see ComposeCommand), and waits until the
// proxy lists all targets. Without a Docker engine or Compose the test is skipped (failed
// under CI). t.Cleanup runs `compose down -v`, after printing the container logs when the
// test failed.
func StartCompose(t testing.TB) *Compose {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if ok, why := DockerAvailable(ctx); !ok {
		Unavailable(t, "no Docker engine for the compose cluster: %s", why)
	}
	composeCmd, err := ComposeCommand(ctx)
	if err != nil {
		Unavailable(t, "no Compose: %v", err)
	}
	root := RepoRoot(t)
	aisImage := os.Getenv(EnvAisnodeImage)
	if aisImage == "" {
		out, err := run(ctx, nil, filepath.Join(root, "playground", "compose.sh"), "image")
		if err != nil {
			t.Fatalf("harness: aisnode image: %v", err)
		}
		aisImage = lastLine(out)
	}
	jaegerImage := os.Getenv(EnvJaegerImage)
	if jaegerImage == "" {
		out, err := run(ctx, nil, filepath.Join(root, "playground", "jaeger.sh"), "image")
		if err != nil {
			t.Fatalf("harness: jaeger image: %v", err)
		}
		jaegerImage = lastLine(out)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	c := &Compose{
		t:       t,
		cmd:     composeCmd,
		project: fmt.Sprintf("miniaistest%d%s", os.Getpid(), hex.EncodeToString(b[:3])),
		file:    filepath.Join(root, "playground", "compose.yaml"),
		ports:   map[string]int{},
	}
	c.env = append(os.Environ(),
		"MINIAIS_AISNODE_IMAGE="+aisImage, "JAEGER_IMAGE="+jaegerImage,
		"AIS_CLUSTER_SECRET="+hex.EncodeToString(b),
		// Empty host ports: Docker picks free ones (all on 127.0.0.1).
		"MINIAIS_COMPOSE_PROXY_PORT=", "MINIAIS_COMPOSE_JAEGER_PORT=",
		"MINIAIS_COMPOSE_TARGET1_PORT=", "MINIAIS_COMPOSE_TARGET2_PORT=", "MINIAIS_COMPOSE_TARGET3_PORT=")
	c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: c.dial}}
	t.Cleanup(c.down)
	if _, err := c.compose(ctx, "up", "-d", "--no-build"); err != nil {
		t.Fatalf("harness: %v", err)
	}
	if err := c.WaitReady(ctx, 2*time.Minute); err != nil {
		t.Fatalf("harness: compose cluster not ready: %v", err)
	}
	t.Logf("compose: project %s, proxy %s, jaeger %s (images %s, %s)", c.project, c.ProxyURL(), c.JaegerQueryURL(), aisImage, jaegerImage)
	return c
}

// compose runs Compose with the project's name, file and environment.
func (c *Compose) compose(ctx context.Context, args ...string) (string, error) {
	full := append(slices.Clone(c.cmd[1:]), "-p", c.project, "-f", c.file)
	return run(ctx, c.env, c.cmd[0], append(full, args...)...)
}

// Project returns the compose project name.
func (c *Compose) Project() string { return c.project }

// Container returns the container name of service ("proxy", "target1", "jaeger", ...):
// PROJECT_SERVICE_1 with docker-compose, PROJECT-SERVICE-1 with the docker compose plugin.
func (c *Compose) Container(service string) string {
	if len(c.cmd) > 1 {
		return c.project + "-" + service + "-1"
	}
	return c.project + "_" + service + "_1"
}

// port returns the host port published for service's container port, asking Docker when
// it is not known (a restarted container may get a new one).
func (c *Compose) port(ctx context.Context, service string, cport int) (int, error) {
	key := service + ":" + strconv.Itoa(cport)
	c.mu.Lock()
	p, ok := c.ports[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	out, err := c.compose(ctx, "port", service, strconv.Itoa(cport))
	if err != nil {
		return 0, err
	}
	_, ps, err := net.SplitHostPort(lastLine(out))
	if err != nil {
		return 0, fmt.Errorf("harness: port of %s: %q: %w", key, out, err)
	}
	if p, err = strconv.Atoi(ps); err != nil || p == 0 {
		return 0, fmt.Errorf("harness: port of %s: %q", key, out)
	}
	c.mu.Lock()
	c.ports[key] = p
	c.mu.Unlock()
	return p, nil
}

func (c *Compose) mustPort(service string, cport int) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := c.port(ctx, service, cport)
	if err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	return p
}

// ProxyURL returns the proxy's URL as published on the host, "http://127.0.0.1:PORT".
func (c *Compose) ProxyURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", c.mustPort("proxy", 8080))
}

// TargetURL returns target i's (1-based, as in the compose file) URL published on the host.
func (c *Compose) TargetURL(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d", c.mustPort(fmt.Sprintf("target%d", i), 8081))
}

// JaegerQueryURL returns the compose Jaeger's query API URL published on the host.
func (c *Compose) JaegerQueryURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", c.mustPort("jaeger", 16686))
}

// Jaeger returns a query client for the compose Jaeger (Trace, WaitTrace, Services,
// Traces). Its Stop and Start fail the test: stop the "jaeger" service instead.
func (c *Compose) Jaeger() *Jaeger {
	return &Jaeger{t: c.t, queryURL: c.JaegerQueryURL(), client: &http.Client{Timeout: 10 * time.Second}}
}

// HTTPClient returns a client that reaches the containers from the host: a dial to
// "proxy:8080" or "targetN:8081" (the names the nodes advertise, so the names redirects
// point to) goes to the port Docker published for it. Other addresses dial as usual.
func (c *Compose) HTTPClient() *http.Client { return c.client }

func (c *Compose) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err == nil && (host == "proxy" || strings.HasPrefix(host, "target")) {
		cport, _ := strconv.Atoi(ps)
		p, err := c.port(ctx, host, cport)
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Smap returns the proxy's cluster map (GET /v1/daemon?what=smap).
func (c *Compose) Smap(ctx context.Context) (*cluster.Map, error) {
	return getSmap(ctx, c.client, c.ProxyURL())
}

// WaitReady waits up to timeout until the proxy answers health 200 and lists all
// ComposeTargets targets as active.
func (c *Compose) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return waitFor(ctx, 200*time.Millisecond, func() (bool, error) {
		p, err := c.port(ctx, "proxy", 8080)
		if err != nil {
			return false, err
		}
		resp, err := c.client.Get(fmt.Sprintf("http://127.0.0.1:%d/v1/health", p))
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("proxy health: %s", resp.Status)
		}
		smap, err := c.Smap(ctx)
		if err != nil {
			return false, err
		}
		if n := len(smap.ActiveTargets()); n < ComposeTargets {
			return false, fmt.Errorf("%d of %d targets active in the cluster map v%d", n, ComposeTargets, smap.Version)
		}
		return true, nil
	})
}

// Stop stops service's container (docker-compose stop: SIGTERM, then SIGKILL after 10 s).
func (c *Compose) Stop(service string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.compose(ctx, "stop", service); err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	c.forget(service)
}

// Kill kills service's container at once (SIGKILL).
func (c *Compose) Kill(service string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.compose(ctx, "kill", service); err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	c.forget(service)
}

// Start starts service's container again and, for a node, waits until the cluster is ready.
func (c *Compose) Start(service string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.compose(ctx, "start", service); err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	c.forget(service)
	if service == "jaeger" {
		return
	}
	if err := c.WaitReady(ctx, 2*time.Minute); err != nil {
		c.t.Fatalf("harness: compose cluster not ready after starting %s: %v", service, err)
	}
}

// forget drops the cached host ports of service (they may change on restart).
func (c *Compose) forget(service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.ports {
		if strings.HasPrefix(k, service+":") {
			delete(c.ports, k)
		}
	}
}

// Exec runs a command in service's container (e.g. "ais", "ls", "ais://b": the image
// holds /bin/ais and sets AIS_ENDPOINT=http://proxy:8080) and returns its standard output.
func (c *Compose) Exec(ctx context.Context, service string, args ...string) (string, error) {
	return run(ctx, nil, "docker", append([]string{"exec", c.Container(service)}, args...)...)
}

// Logs returns the logs of every container of the project.
func (c *Compose) Logs() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.compose(ctx, "logs", "--no-color", "--tail=200")
	if err != nil {
		return fmt.Sprintf("(%v)\n%s", err, out)
	}
	return out
}

// down removes the project's containers, network and volumes (t.Cleanup).
func (c *Compose) down() {
	if c.t.Failed() {
		c.t.Logf("compose logs (last 200 lines per container):\n%s", c.Logs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.compose(ctx, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
		c.t.Logf("harness: compose down: %v", err)
	}
}

// Network returns the name of the project's network (the compose file's "miniais").
func (c *Compose) Network() string { return c.project + "_miniais" }

// Disconnect cuts service's container off the project's network (docker network
// disconnect): it keeps running, but no peer reaches it and it reaches none, and its
// published ports do not answer.
func (c *Compose) Disconnect(service string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := run(ctx, nil, "docker", "network", "disconnect", c.Network(), c.Container(service)); err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	c.forget(service)
}

// Connect puts service's container back on the project's network after Disconnect,
// reachable under its service name again (the alias Compose gives it).
func (c *Compose) Connect(service string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := run(ctx, nil, "docker", "network", "connect", "--alias", service, c.Network(), c.Container(service)); err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	c.forget(service)
}
