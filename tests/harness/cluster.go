package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"miniais/cluster"
	"miniais/internal/proc"
)

// Options configures StartCluster. The zero value is a cluster of 3 targets with
// 2 mountpaths each, a random cluster secret and tracing off.
type Options struct {
	Targets    int // default 3
	Mountpaths int // per target, default 2

	// TracingEndpoint, when set, is exported to every node as AIS_TRACING_ENDPOINT
	// (e.g. Jaeger.OTLPEndpoint()).
	TracingEndpoint string
	// Env is added to every node's environment (after os.Environ and the harness's
	// default AIS_TRACING_TRUSTED_CLIENTS=127.0.0.0/8,::1), e.g.
	// "AIS_TRACING_SAMPLING_PROBABILITY=1".
	Env []string
	// Secret is the cluster secret (written to a file, passed as -secret_file); empty
	// picks a random one. NoSecret runs the cluster without transport authentication.
	Secret   string
	NoSecret bool

	// Args are extra aisnode flags for every node; ProxyArgs and TargetArgs for one role.
	Args, ProxyArgs, TargetArgs []string
	// LogLevel is passed as -log_level (default "debug").
	LogLevel string
	// BinDir holds aisnode and ais (default MINIAIS_BIN_DIR, else <repo>/bin, built with
	// `go build` when missing).
	BinDir string
	// StartTimeout bounds the wait for a healthy cluster (default 60 s).
	StartTimeout time.Duration
}

// Node is one aisnode process of a Cluster. Its fields do not change after StartCluster;
// ID is the node ID the proxy's cluster map lists.
type Node struct {
	Role          string // cluster.RoleProxy or cluster.RoleTarget
	Name          string // "proxy", "target0", "target1", ...
	ID            string
	PublicAddr    string // "127.0.0.1:PORT"
	PublicURL     string // "http://127.0.0.1:PORT"
	TransportAddr string
	DataDir       string
	Mountpaths    []string
	LogPath       string

	args  []string
	mu    sync.Mutex
	child *proc.Process
}

// PID returns the node's process ID, or 0 when it does not run.
func (n *Node) PID() int {
	if child := n.process(); child != nil && !child.Exited() {
		return child.PID()
	}
	return 0
}

// process returns the node's last started process, or nil.
func (n *Node) process() *proc.Process {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.child
}

// Running reports whether the node's process runs.
func (n *Node) Running() bool { return n.PID() != 0 }

// Cluster is a running miniais cluster of aisnode processes on 127.0.0.1, started by
// StartCluster and stopped in t.Cleanup. Methods are safe for concurrent use, but starting
// and stopping the same node from two goroutines at once is not meaningful.
type Cluster struct {
	t       testing.TB
	opts    Options
	dir     string
	binDir  string
	secret  string
	env     []string
	proxy   *Node
	targets []*Node
	client  *http.Client
}

// StartCluster starts one proxy and opts.Targets targets on free ports, waits until the
// proxy answers health 200 and lists every target in its cluster map, and registers the
// cleanup: every node is stopped (SIGTERM, then SIGKILL), and when the test failed the
// node logs are printed and their directory kept.
func StartCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Targets <= 0 {
		opts.Targets = 3
	}
	if opts.Mountpaths <= 0 {
		opts.Mountpaths = 2
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "debug"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	bin := binDir(t, opts.BinDir)
	dir, err := os.MkdirTemp("", "miniais-test-")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	c := &Cluster{t: t, opts: opts, dir: dir, binDir: bin, client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(c.stopAll)

	// As in the playground, local clients are trusted (the CLI's --trace and hop spans);
	// Options.Env may say otherwise (AIS_TRACING_TRUSTED_CLIENTS=none).
	c.env = append(append(os.Environ(), "AIS_TRACING_TRUSTED_CLIENTS=127.0.0.0/8,::1"), opts.Env...)
	if opts.TracingEndpoint != "" {
		c.env = append(c.env, "AIS_TRACING_ENDPOINT="+opts.TracingEndpoint)
	}
	var common []string
	if !opts.NoSecret {
		c.secret = opts.Secret
		if c.secret == "" {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			c.secret = hex.EncodeToString(b)
		}
		sf := filepath.Join(dir, "cluster.secret")
		if err := os.WriteFile(sf, []byte(c.secret), 0o600); err != nil {
			t.Fatalf("harness: %v", err)
		}
		common = append(common, "-secret_file="+sf)
	}
	common = append(common, "-log_level="+opts.LogLevel)
	common = append(common, opts.Args...)

	ports := FreePorts(t, 2*(opts.Targets+1))
	c.proxy = c.newNode(cluster.RoleProxy, "proxy", ports[0], ports[1])
	c.proxy.args = append(append(c.proxy.args, common...), opts.ProxyArgs...)
	for i := range opts.Targets {
		n := c.newNode(cluster.RoleTarget, fmt.Sprintf("target%d", i), ports[2*i+2], ports[2*i+3])
		for m := range opts.Mountpaths {
			mp := filepath.Join(dir, n.Name, fmt.Sprintf("mp%d", m+1))
			if err := os.MkdirAll(mp, 0o755); err != nil {
				t.Fatalf("harness: %v", err)
			}
			n.Mountpaths = append(n.Mountpaths, mp)
		}
		n.args = append(n.args, "-proxy="+c.proxy.TransportAddr, "-mountpaths="+strings.Join(n.Mountpaths, ","))
		n.args = append(append(n.args, common...), opts.TargetArgs...)
		c.targets = append(c.targets, n)
	}

	c.startNode(c.proxy)
	for _, n := range c.targets {
		c.startNode(n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.StartTimeout)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("harness: cluster not ready: %v", err)
	}
	t.Logf("cluster: proxy %s (pid %d), %d targets, dir %s", c.ProxyURL(), c.proxy.PID(), len(c.targets), dir)
	return c
}

// binDir returns the directory of aisnode and ais, building them when missing.
func binDir(t testing.TB, dir string) string {
	t.Helper()
	if dir == "" {
		dir = os.Getenv(EnvBinDir)
	}
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "bin")
	}
	_, err1 := os.Stat(filepath.Join(dir, "aisnode"))
	_, err2 := os.Stat(filepath.Join(dir, "ais"))
	if err1 == nil && err2 == nil {
		return dir
	}
	t.Logf("harness: building aisnode and ais into %s", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./cmd/aisnode", "./cmd/ais")
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("harness: go build ./cmd/aisnode ./cmd/ais: %v\n%s", err, out)
	}
	return dir
}

// newNode lays out a node: its ports, its own data_dir and log file.
func (c *Cluster) newNode(role, name string, pubPort, trPort int) *Node {
	pub, tr := fmt.Sprintf("127.0.0.1:%d", pubPort), fmt.Sprintf("127.0.0.1:%d", trPort)
	n := &Node{
		Role: role, Name: name,
		PublicAddr: pub, PublicURL: "http://" + pub, TransportAddr: tr,
		DataDir: filepath.Join(c.dir, name, "data"),
		LogPath: filepath.Join(c.dir, name, "aisnode.log"),
	}
	if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	n.args = []string{"-role=" + role, "-public_addr=" + pub, "-transport_addr=" + tr, "-data_dir=" + n.DataDir}
	return n
}

// startNode starts n's process; it fails the test if the process cannot start.
func (c *Cluster) startNode(n *Node) {
	c.t.Helper()
	child, err := proc.Start(proc.Spec{Name: n.Name, Bin: filepath.Join(c.binDir, "aisnode"), Args: n.args, Env: c.env, LogPath: n.LogPath})
	if err != nil {
		c.t.Fatalf("harness: %s: %v", n.Name, err)
	}
	n.mu.Lock()
	n.child = child
	n.mu.Unlock()
}

// Dir returns the cluster's directory (node data, mountpaths, logs).
func (c *Cluster) Dir() string { return c.dir }

// BinDir returns the directory holding aisnode and ais.
func (c *Cluster) BinDir() string { return c.binDir }

// Secret returns the cluster secret ("" with Options.NoSecret).
func (c *Cluster) Secret() string { return c.secret }

// ProxyURL returns the proxy's base URL, "http://127.0.0.1:PORT".
func (c *Cluster) ProxyURL() string { return c.proxy.PublicURL }

// Proxy returns the proxy node.
func (c *Cluster) Proxy() *Node { return c.proxy }

// Targets returns the target nodes, in start order. The caller must not modify the slice.
func (c *Cluster) Targets() []*Node { return c.targets }

// Nodes returns the proxy and the targets.
func (c *Cluster) Nodes() []*Node { return append([]*Node{c.proxy}, c.targets...) }

// Env returns the environment for running bin/ais against the cluster: os.Environ plus
// AIS_ENDPOINT and, with tracing, AIS_TRACING_ENDPOINT.
func (c *Cluster) Env() []string {
	env := append(os.Environ(), "AIS_ENDPOINT="+c.ProxyURL())
	if c.opts.TracingEndpoint != "" {
		env = append(env, "AIS_TRACING_ENDPOINT="+c.opts.TracingEndpoint)
	}
	return env
}

// CLI returns a command running bin/ais with args against the cluster (environment Env).
func (c *Cluster) CLI(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "ais"), args...)
	cmd.Env = c.Env()
	return cmd
}

// RunCLI runs bin/ais with args and returns its standard output; a failure fails the test
// with the command's output.
func (c *Cluster) RunCLI(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.CLI(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ais %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// Smap returns the proxy's cluster map (GET /v1/daemon?what=smap).
func (c *Cluster) Smap(ctx context.Context) (*cluster.Map, error) {
	return getSmap(ctx, c.client, c.ProxyURL())
}

// getSmap GETs the cluster map from the proxy at proxyURL with hc.
func getSmap(ctx context.Context, hc *http.Client, proxyURL string) (*cluster.Map, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, proxyURL+"/v1/daemon?what=smap", nil)
	if err != nil {
		return nil, fmt.Errorf("harness: smap: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("harness: smap: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("harness: smap: %s", resp.Status)
	}
	var m cluster.Map
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, fmt.Errorf("harness: smap: decode: %w", err)
	}
	return &m, nil
}

// health answers the status code of GET url/v1/health (0 when nothing answers).
func (c *Cluster) health(ctx context.Context, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/health", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// WaitReady waits until the proxy answers health 200, every running target answers health
// 200 and is listed (not down) in the proxy's cluster map; it then records the node IDs.
// A node process that exits meanwhile ends the wait with an error.
func (c *Cluster) WaitReady(ctx context.Context) error {
	err := waitFor(ctx, 100*time.Millisecond, func() (bool, error) {
		for _, n := range c.Nodes() {
			if n == nil {
				continue
			}
			child := n.process()
			if child != nil && child.Exited() {
				return false, stopWaiting{fmt.Errorf("%s exited: %v", n.Name, child.ExitErr())}
			}
		}
		if code, err := c.health(ctx, c.ProxyURL()); err != nil || code != http.StatusOK {
			return false, fmt.Errorf("proxy health: %d %v", code, err)
		}
		smap, err := c.Smap(ctx)
		if err != nil {
			return false, err
		}
		for _, n := range c.targets {
			if !n.Running() {
				continue
			}
			sn := findByURL(smap, n.PublicURL)
			if sn == nil || sn.Down() {
				return false, fmt.Errorf("%s (%s) is not an active target in the cluster map v%d", n.Name, n.PublicURL, smap.Version)
			}
			if code, err := c.health(ctx, n.PublicURL); err != nil || code != http.StatusOK {
				return false, fmt.Errorf("%s health: %d %v", n.Name, code, err)
			}
			n.mu.Lock()
			n.ID = sn.ID
			n.mu.Unlock()
		}
		if smap.Primary != nil {
			c.proxy.mu.Lock()
			c.proxy.ID = smap.Primary.ID
			c.proxy.mu.Unlock()
		}
		return true, nil
	})
	return err
}

// findByURL returns the target of smap whose public URL is u.
func findByURL(smap *cluster.Map, u string) *cluster.Node {
	for _, n := range smap.Targets {
		if n.PublicNet.DirectURL == u || "http://"+n.PublicNet.HostPort() == u {
			return n
		}
	}
	return nil
}

// Signal sends sig to node n (e.g. syscall.SIGSTOP to freeze it, SIGCONT to resume).
func (c *Cluster) Signal(n *Node, sig os.Signal) {
	c.t.Helper()
	child := n.process()
	if child == nil {
		c.t.Fatalf("harness: %s: %v", n.Name, proc.ErrNotRunning)
	}
	if err := child.Signal(sig); err != nil {
		c.t.Fatalf("harness: %s: %v", n.Name, err)
	}
}

// StopNode sends sig (SIGKILL for a crash, SIGTERM for a clean stop) to n and waits until
// its process has exited (SIGTERM: killed after 15 s).
func (c *Cluster) StopNode(n *Node, sig syscall.Signal) {
	c.t.Helper()
	child := n.process()
	if child == nil || child.Exited() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if sig == syscall.SIGTERM {
		if !child.Terminate(ctx, 15*time.Second) {
			c.t.Errorf("harness: %s did not exit within 15 s of SIGTERM; killed", n.Name)
		}
		return
	}
	if err := child.Signal(sig); err != nil {
		c.t.Fatalf("harness: %s: %v", n.Name, err)
	}
	if err := child.Wait(ctx); err != nil {
		c.t.Fatalf("harness: %s: %v", n.Name, err)
	}
}

// KillTarget stops target i with sig (see StopNode).
func (c *Cluster) KillTarget(i int, sig syscall.Signal) { c.t.Helper(); c.StopNode(c.targets[i], sig) }

// StartTarget starts target i again (same ports, data_dir and mountpaths) and waits until
// the cluster is ready with it.
func (c *Cluster) StartTarget(i int) {
	c.t.Helper()
	c.restart(c.targets[i])
}

// RestartProxy stops the proxy cleanly (SIGTERM), starts it again on the same ports and
// data_dir, and waits until every running target is back in its cluster map.
func (c *Cluster) RestartProxy() {
	c.t.Helper()
	c.StopNode(c.proxy, syscall.SIGTERM)
	c.restart(c.proxy)
}

// StartProxy starts the proxy again after StopNode(c.Proxy(), ...) and waits until ready.
func (c *Cluster) StartProxy() { c.t.Helper(); c.restart(c.proxy) }

func (c *Cluster) restart(n *Node) {
	c.t.Helper()
	if n.Running() {
		c.t.Fatalf("harness: %s still runs (pid %d)", n.Name, n.PID())
	}
	c.startNode(n)
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.StartTimeout)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		c.t.Fatalf("harness: cluster not ready after starting %s: %v", n.Name, err)
	}
}

// Logs returns the log of node n (everything it wrote to stderr and stdout, over restarts).
func (c *Cluster) Logs(n *Node) string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}

// dumpLogs prints the end of every node's log.
func (c *Cluster) dumpLogs() {
	for _, n := range c.Nodes() {
		if n == nil {
			continue
		}
		c.t.Logf("----- %s (%s) log, last 100 lines:\n%s", n.Name, n.LogPath, tailFile(n.LogPath, 100))
	}
}

// stopAll stops every node (t.Cleanup). A failed test keeps the directory and prints logs.
func (c *Cluster) stopAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range c.Nodes() {
		if n == nil {
			continue
		}
		child := n.process()
		if child == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !child.Terminate(ctx, 15*time.Second) {
				c.t.Logf("harness: %s did not exit within 15 s of SIGTERM; killed", n.Name)
			}
		}()
	}
	wg.Wait()
	if c.t.Failed() {
		c.dumpLogs()
		c.t.Logf("harness: cluster directory kept: %s", c.dir)
		return
	}
	_ = os.RemoveAll(c.dir)
}
