// Package nodetest runs a real miniais cluster inside a test binary: one
// proxy and any number of targets, made by proxy.New and target.New and run
// in goroutines, so that the tests of the client (api), the CLI and the
// nodes themselves exercise the real servers rather than a second
// implementation of them.
//
// # What Start sets up
//
// Every node serves on listeners that nodetest binds on 127.0.0.1:0 and
// hands to its Serve, so no port is raced for; a restarted node binds the
// same addresses again (its previous Serve closed them before returning).
// Data directories and mountpaths live in one temporary directory per
// cluster, removed when the test ends (every goroutine of a node has ended
// when its Serve returns). Tracing is disabled (unless an Options hook sets a provider),
// the transport is authenticated with a random cluster secret, and objects
// are written with fs.FsyncNever. Start returns once the proxy's cluster map
// lists every target and every target holds that map version; t.Cleanup
// stops every node (cancels its context and waits for its Serve to
// return, reporting a Serve error as a test error), targets first.
//
// The proxy's ID is "p1"; the targets are "t1", "t2", ... in start order.
//
// # Imports
//
// nodetest imports proxy and target, so their in-package (white-box) tests
// cannot use it; their tests that need both nodes live in the external
// test packages proxy_test and target_test.
package nodetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/proxy"
	"miniais/target"
	"miniais/tracing"
)

// ProxyID is the daemon ID of the cluster's proxy.
const ProxyID = "p1"

// Timeout bounds each wait of the package: for a node to answer, for the
// targets to join, for a map version to reach every target.
const Timeout = 20 * time.Second

// Options configures Start. The zero value is a proxy alone.
type Options struct {
	// Targets is how many targets to start (0: the proxy alone; add
	// targets later with AddTarget).
	Targets int
	// Mountpaths is the number of mountpaths of each target (default 2).
	Mountpaths int
	// Secret is the cluster secret (default: random). NoSecret runs the
	// transport without authentication.
	Secret   []byte
	NoSecret bool
	// Logger receives every node's logs (default: discarded).
	Logger *slog.Logger
	// Proxy, when set, adjusts the proxy's configuration before
	// proxy.New (the addresses are those of the listeners bound for it: a
	// change of them is not served). A restart (StartProxy) reuses the
	// adjusted configuration.
	Proxy func(*proxy.Config)
	// Target, when set, adjusts the configuration of the target with index
	// i (0 for "t1") before target.New (the addresses are those of the
	// listeners bound for it). A restart (StartTarget) reuses it.
	Target func(i int, cfg *target.Config)
}

// Cluster is a running in-process cluster. Its methods are meant for the
// test's goroutine; Proxy, Target and Targets may be called from any.
type Cluster struct {
	tb   testing.TB
	opts Options
	dir  string

	mu      sync.Mutex
	proxy   *Proxy
	targets []*Target
}

// Proxy is the cluster's proxy node. Its fields do not change; a restart
// (Cluster.StartProxy) makes a new Proxy.
type Proxy struct {
	*proxy.Proxy
	// Config is the configuration it was made with.
	Config proxy.Config
	// URL is its public endpoint, "http://127.0.0.1:PORT".
	URL string

	run *runner
}

// Target is one target node. Its fields do not change; a restart
// (Cluster.StartTarget) makes a new Target with the same Config.
type Target struct {
	*target.Target
	// Index is its place in the cluster (0 for "t1").
	Index int
	// Config is the configuration it was made with.
	Config target.Config
	// URL is its public endpoint, "http://127.0.0.1:PORT".
	URL string

	run *runner
}

// ID returns the target's daemon ID.
func (t *Target) ID() string { return t.Config.ID }

// Running reports whether the target's Run has not returned.
func (t *Target) Running() bool { return t.run.running() }

// Start starts a cluster, waits until every target has joined and holds
// the proxy's map, and stops the cluster when the test ends.
func Start(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	if opts.Mountpaths == 0 {
		opts.Mountpaths = 2
	}
	if opts.Secret == nil && !opts.NoSecret {
		b := make([]byte, 16)
		rand.Read(b)
		opts.Secret = []byte(hex.EncodeToString(b))
	}
	if opts.NoSecret {
		opts.Secret = nil
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "nodetest-")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{tb: tb, opts: opts, dir: dir}
	tb.Cleanup(c.removeDir) // after stopAll
	tb.Cleanup(c.stopAll)
	pcfg := proxy.Config{
		ID: ProxyID, DataDir: filepath.Join(c.dir, "proxy"), Secret: opts.Secret,
		Tracing: tracing.Disabled(), Logger: opts.Logger.With("node", ProxyID),
	}
	c.StartProxyConfig(pcfg)
	for range opts.Targets {
		c.addTarget()
	}
	c.WaitJoined()
	return c
}

// URL returns the proxy's public endpoint.
func (c *Cluster) URL() string { return c.Proxy().URL }

// Proxy returns the proxy (the last one started).
func (c *Cluster) Proxy() *Proxy {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proxy
}

// Target returns the target with index i (0 for "t1").
func (c *Cluster) Target(i int) *Target {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.targets[i]
}

// Targets returns every target, running or stopped, by index.
func (c *Cluster) Targets() []*Target {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Target(nil), c.targets...)
}

// TargetByID returns the target with daemon ID id, or nil.
func (c *Cluster) TargetByID(id string) *Target {
	for _, t := range c.Targets() {
		if t.ID() == id {
			return t
		}
	}
	return nil
}

// StopProxy stops the proxy and waits for its Serve to return.
func (c *Cluster) StopProxy() {
	c.tb.Helper()
	c.Proxy().run.stop(c.tb)
}

// StartProxy starts the proxy again, with its configuration and on its
// addresses (after StopProxy: a restart keeps its data directory), and
// waits until it answers.
func (c *Cluster) StartProxy() *Proxy {
	c.tb.Helper()
	return c.StartProxyConfig(c.Proxy().Config)
}

// StartProxyConfig starts a proxy made with cfg and waits until it answers.
// When both addresses are empty, listeners are bound on 127.0.0.1:0 and
// Options.Proxy is applied; else the proxy listens on cfg's addresses. It
// replaces the cluster's proxy, which must not be running.
func (c *Cluster) StartProxyConfig(cfg proxy.Config) *Proxy {
	c.tb.Helper()
	if p := c.proxyIfAny(); p != nil && p.run.running() {
		c.tb.Fatal("nodetest: StartProxy: the proxy is running")
	}
	pick := cfg.PublicAddr == "" && cfg.TransportAddr == ""
	hln, tln := listen(c.tb, cfg.PublicAddr, cfg.TransportAddr)
	cfg.PublicAddr, cfg.TransportAddr = hln.Addr().String(), tln.Addr().String()
	if pick && c.opts.Proxy != nil {
		c.opts.Proxy(&cfg)
	}
	p, err := proxy.New(cfg)
	if err != nil {
		hln.Close()
		tln.Close()
		c.tb.Fatalf("nodetest: proxy.New: %v", err)
	}
	px := &Proxy{Proxy: p, Config: cfg, URL: "http://" + cfg.PublicAddr,
		run: startRunner(func(ctx context.Context) error { return p.Serve(ctx, hln, tln) })}
	c.mu.Lock()
	c.proxy = px
	c.mu.Unlock()
	if err := waitAnswer(px.run, px.URL, cfg.ID); err != nil {
		c.tb.Fatalf("nodetest: proxy %s: %v", cfg.ID, err)
	}
	return px
}

// listen binds the two addresses (127.0.0.1:0 where empty).
func listen(tb testing.TB, public, transport string) (hln, tln net.Listener) {
	tb.Helper()
	if public == "" {
		public = "127.0.0.1:0"
	}
	if transport == "" {
		transport = "127.0.0.1:0"
	}
	hln, err := net.Listen("tcp", public)
	if err != nil {
		tb.Fatalf("nodetest: listen: %v", err)
	}
	tln, err = net.Listen("tcp", transport)
	if err != nil {
		hln.Close()
		tb.Fatalf("nodetest: listen: %v", err)
	}
	return hln, tln
}

func (c *Cluster) proxyIfAny() *Proxy {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proxy
}

// AddTarget starts one more target and waits until it has joined.
func (c *Cluster) AddTarget() *Target {
	c.tb.Helper()
	t := c.addTarget()
	c.WaitJoined()
	return c.Target(t.Index)
}

// addTarget starts a new target without waiting for it to join.
func (c *Cluster) addTarget() *Target {
	c.tb.Helper()
	c.mu.Lock()
	i := len(c.targets)
	c.targets = append(c.targets, nil)
	c.mu.Unlock()
	id := "t" + strconv.Itoa(i+1)
	dir := filepath.Join(c.dir, id)
	mps := make([]string, c.opts.Mountpaths)
	for j := range mps {
		mps[j] = filepath.Join(dir, "mp"+strconv.Itoa(j+1))
		if err := os.MkdirAll(mps[j], 0o755); err != nil {
			c.tb.Fatal(err)
		}
	}
	cfg := target.Config{
		ID: id, ProxyAddr: c.Proxy().Config.TransportAddr, DataDir: filepath.Join(dir, "data"), Mountpaths: mps,
		Fsync: fs.FsyncNever, Secret: c.opts.Secret, Tracing: tracing.Disabled(), Logger: c.opts.Logger.With("node", id),
	}
	return c.startTarget(i, cfg, true)
}

// StopTarget stops target i and waits for its Serve to return. The proxy
// still lists it (until its keepalives are missed).
func (c *Cluster) StopTarget(i int) {
	c.tb.Helper()
	c.Target(i).run.stop(c.tb)
}

// StartTarget starts stopped target i again, with its configuration, on
// its addresses and mountpaths, and waits until it has joined.
func (c *Cluster) StartTarget(i int) *Target {
	c.tb.Helper()
	old := c.Target(i)
	if old.run.running() {
		c.tb.Fatalf("nodetest: StartTarget: target %s is running", old.ID())
	}
	c.startTarget(i, old.Config, false)
	c.WaitJoined()
	return c.Target(i)
}

// startTarget makes and runs target i with cfg; with pick, it binds
// listeners on 127.0.0.1:0 and applies Options.Target, else it listens on
// cfg's addresses.
func (c *Cluster) startTarget(i int, cfg target.Config, pick bool) *Target {
	c.tb.Helper()
	hln, tln := listen(c.tb, cfg.PublicAddr, cfg.TransportAddr)
	cfg.PublicAddr, cfg.TransportAddr = hln.Addr().String(), tln.Addr().String()
	if pick && c.opts.Target != nil {
		c.opts.Target(i, &cfg)
	}
	tg, err := target.New(cfg)
	if err != nil {
		hln.Close()
		tln.Close()
		c.tb.Fatalf("nodetest: target.New: %v", err)
	}
	t := &Target{Target: tg, Index: i, Config: cfg, URL: "http://" + cfg.PublicAddr,
		run: startRunner(func(ctx context.Context) error { return tg.Serve(ctx, hln, tln) })}
	c.mu.Lock()
	c.targets[i] = t
	c.mu.Unlock()
	if err := waitAnswer(t.run, t.URL, cfg.ID); err != nil {
		c.tb.Fatalf("nodetest: target %s: %v", cfg.ID, err)
	}
	return t
}

// WaitJoined waits until the proxy's cluster map lists every running
// target as up and every running target holds that map version.
func (c *Cluster) WaitJoined() {
	c.tb.Helper()
	var why string
	if !poll(func() bool { why = c.joinState(); return why == "" }) {
		c.tb.Fatalf("nodetest: the cluster did not form within %v: %s", Timeout, why)
	}
}

// joinState returns "" when the cluster is formed, else what is missing.
func (c *Cluster) joinState() string {
	smap := c.Proxy().Smap()
	for _, t := range c.Targets() {
		if !t.run.running() {
			continue
		}
		if n := smap.Targets[t.ID()]; n == nil || n.Down() {
			return fmt.Sprintf("target %s is not up in the proxy's map v%d", t.ID(), smap.Version)
		}
		var m cluster.Map
		if err := getJSON(t.URL+wire.PathDaemon+"?"+wire.QparamWhat+"="+wire.WhatSmap, &m); err != nil {
			return fmt.Sprintf("target %s: %v", t.ID(), err)
		}
		if m.Version != smap.Version {
			return fmt.Sprintf("target %s holds map v%d, the proxy v%d", t.ID(), m.Version, smap.Version)
		}
	}
	return ""
}

// WaitBMD waits until every running target holds the proxy's bucket
// metadata version.
func (c *Cluster) WaitBMD() {
	c.tb.Helper()
	var why string
	ok := poll(func() bool {
		want := c.Proxy().BMD().Version
		for _, t := range c.Targets() {
			if !t.run.running() {
				continue
			}
			var bmd cluster.BMD
			if err := getJSON(t.URL+wire.PathDaemon+"?"+wire.QparamWhat+"="+wire.WhatBMD, &bmd); err != nil || bmd.Version != want {
				why = fmt.Sprintf("target %s holds bucket metadata v%d (%v), the proxy v%d", t.ID(), bmd.Version, err, want)
				return false
			}
		}
		return true
	})
	if !ok {
		c.tb.Fatalf("nodetest: %s", why)
	}
}

// Object reads object name of an ais:// bucket through the proxy with
// plain net/http (not the api client), following the redirect: it is how
// a test checks what the cluster stored. It reports false when the cluster
// answers 404; any other failure fails the test.
func (c *Cluster) Object(bucket, name string) ([]byte, bool) {
	c.tb.Helper()
	u := c.URL() + wire.PathObjects + "/" + url.PathEscape(bucket) + "/" + (&url.URL{Path: name}).EscapedPath()
	resp, err := http.Get(u)
	if err != nil {
		c.tb.Fatalf("nodetest: GET %s/%s: %v", bucket, name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, false
	case resp.StatusCode != http.StatusOK || err != nil:
		c.tb.Fatalf("nodetest: GET %s/%s: %s %s (%v)", bucket, name, resp.Status, b, err)
	}
	return b, true
}

// stopAll stops every running node, the targets first.
func (c *Cluster) stopAll() {
	for _, t := range c.Targets() {
		if t != nil {
			t.run.stop(c.tb)
		}
	}
	if p := c.proxyIfAny(); p != nil {
		p.run.stop(c.tb)
	}
}

// removeDir removes the cluster's directory.
func (c *Cluster) removeDir() {
	if err := os.RemoveAll(c.dir); err != nil {
		c.tb.Errorf("nodetest: remove %s: %v", c.dir, err)
	}
}

// runner runs one node's Serve in a goroutine.
type runner struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, set before done is closed
	once   sync.Once
}

func startRunner(run func(context.Context) error) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = run(ctx)
	}()
	return r
}

func (r *runner) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// stop cancels Run, waits for it and reports its error (once).
func (r *runner) stop(tb testing.TB) {
	tb.Helper()
	r.cancel()
	<-r.done
	r.once.Do(func() {
		if r.err != nil {
			tb.Errorf("nodetest: Serve: %v", r.err)
		}
	})
}

// waitAnswer waits until the node at base answers GET /v1/daemon?what=snode
// with its own ID, or its Run returns (that error, e.g. a bind race).
func waitAnswer(r *runner, base, id string) error {
	var last error
	ok := poll(func() bool {
		if !r.running() {
			return true
		}
		// Another process may hold the port and never answer: stop asking
		// as soon as Run returns.
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-r.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		var n cluster.Node
		last = getJSONContext(ctx, base+wire.PathDaemon+"?"+wire.QparamWhat+"="+wire.WhatSnode, &n)
		cancel()
		if last == nil && n.ID != id {
			last = fmt.Errorf("%s answers as %q", base, n.ID)
		}
		return last == nil
	})
	if !r.running() {
		if r.err == nil {
			return errors.New("Run returned at once")
		}
		return r.err
	}
	if !ok {
		return fmt.Errorf("no answer within %v: %v", Timeout, last)
	}
	return nil
}

// WaitFor polls cond until it holds, failing the test if it does not
// within Timeout; what names the wait in the failure.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	if !poll(cond) {
		tb.Fatalf("waited %v for %s", Timeout, what)
	}
}

// poll calls cond until it returns true (then poll returns true) or
// Timeout passes.
func poll(cond func() bool) bool {
	deadline := time.Now().Add(Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

var httpc = &http.Client{Timeout: 5 * time.Second}

func getJSON(u string, v any) error { return getJSONContext(context.Background(), u, v) }

func getJSONContext(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
