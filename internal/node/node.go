// Package node is the lifecycle that the proxy and the target share: it
// serves a node's HTTP API and transport on listeners the caller bound, runs
// its background goroutines, and shuts all of it down in one order, waiting
// for every goroutine it started.
//
// # Order of a run
//
// Serve starts the HTTP server, the transport server and the background
// loops, then waits until its context is done or a server fails. It then
//
//  1. stops the transport server (its Serve returns only once every
//     connection goroutine and handler has returned), and shuts the HTTP
//     server down: in-flight requests finish, bounded by
//     Config.ShutdownTimeout, after which the remaining connections are
//     closed;
//  2. runs Config.Stopped (the node's cleanup that must follow the last
//     request, e.g. dropping pending uploads);
//  3. cancels the Group's context and waits for every goroutine started
//     with Group.Go (loops, jobs, pushes) to return.
//
// Serve returns only after all of that. The only goroutines it does not
// wait for are HTTP handlers still running after the shutdown timeout
// (net/http does not wait for them); their contexts are cancelled.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"miniais/transport"
)

// Config is what Serve runs.
type Config struct {
	// Name names the node in errors ("proxy p1").
	Name string
	// HTTP serves the public API on HTTPListener.
	HTTP         *http.Server
	HTTPListener net.Listener
	// Transport serves the intra-cluster transport on TransportListener.
	Transport         *transport.Server
	TransportListener net.Listener
	// Group runs the node's background goroutines; Serve stops it.
	Group *Group
	// Loops are started in Group when Serve starts; each must return when
	// its context is done.
	Loops []func(ctx context.Context)
	// Stopped, when set, runs after the servers have stopped and before the
	// Group is stopped.
	Stopped func()
	// ShutdownTimeout bounds the wait for in-flight HTTP requests.
	ShutdownTimeout time.Duration
	// Logger receives the server failures.
	Logger *slog.Logger
}

// Serve runs cfg until ctx is done or a server fails, then shuts down as
// the package documentation says. It closes both listeners. It returns nil
// after ctx is done and every in-flight request finished in time, else the
// first server failure or the shutdown's error.
func Serve(ctx context.Context, cfg Config) error {
	if cfg.Group == nil || cfg.HTTP == nil || cfg.Transport == nil || cfg.HTTPListener == nil || cfg.TransportListener == nil {
		return fmt.Errorf("%s: node.Serve: servers, listeners and group are required", cfg.Name)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Group.isStopped() {
		cfg.HTTPListener.Close()
		cfg.TransportListener.Close()
		return fmt.Errorf("%s: %w", cfg.Name, ErrStopped)
	}
	for _, loop := range cfg.Loops {
		cfg.Group.Go(loop) // refused only after Stop, which only Serve calls
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := cfg.Transport.Serve(gctx, cfg.TransportListener); err != nil {
			return fmt.Errorf("%s: transport: %w", cfg.Name, err)
		}
		return nil
	})
	g.Go(func() error {
		if err := cfg.HTTP.Serve(cfg.HTTPListener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("%s: http: %w", cfg.Name, err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done() // ctx done, or a server failed
		shctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		err := cfg.HTTP.Shutdown(shctx)
		if err != nil {
			cfg.HTTP.Close()
			err = fmt.Errorf("%s: in-flight requests after %v: %w", cfg.Name, cfg.ShutdownTimeout, err)
		}
		return err
	})
	err := g.Wait()
	if err != nil && ctx.Err() == nil {
		log.Error("node: server stopped", "node", cfg.Name, "err", err)
	}
	if cfg.Stopped != nil {
		cfg.Stopped()
	}
	cfg.Group.Stop()
	return err
}

// ErrStopped is returned by Serve when its Group was already stopped (a
// node runs once).
var ErrStopped = errors.New("node: stopped")

// Group is a node's background goroutines: each one started by Go runs
// with the Group's context, and Stop cancels that context and waits for all
// of them. Its methods are safe for concurrent use.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// NewGroup returns a running Group.
func NewGroup() *Group {
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{ctx: ctx, cancel: cancel}
}

// Context returns the Group's context, done once Stop is called.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs f in a goroutine with the Group's context, and reports true;
// after Stop it runs nothing and reports false.
func (g *Group) Go(f func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Go(func() { f(g.ctx) })
	return true
}

func (g *Group) isStopped() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopped
}

// Stop cancels the Group's context and waits for every goroutine started
// with Go to return. Later calls of Go run nothing.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	g.cancel()
	g.mu.Unlock()
	g.wg.Wait()
}
