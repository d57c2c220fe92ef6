package matrix

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/internal/proc"
)

// servers is one running system under test.
type servers struct {
	endpoint string
	procs    []*proc.Process
	proxy    *proc.Process
	targets  []*proc.Process
	pprof    map[string]string // node name -> pprof host:port
	dir      string
}

func (s *servers) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		stopProcess(s.procs[i])
	}
}

// startRef starts the reference server with two directories under dir.
func startRef(ctx context.Context, cfg *Config, dir string) (*servers, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dirs := filepath.Join(dir, "d1") + "," + filepath.Join(dir, "d2")
	p, err := startProcess("refserver", filepath.Join(cfg.BinDir, "refserver"),
		[]string{"-addr=" + addr, "-dirs=" + dirs, "-fsync=" + cfg.Fsync}, nil, filepath.Join(dir, "refserver.log"))
	if err != nil {
		return nil, err
	}
	s := &servers{endpoint: "http://" + addr, procs: []*proc.Process{p}, dir: dir}
	if err := waitHTTP(ctx, s.endpoint+wire.PathHealth, 20*time.Second, p); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startCluster starts 1 proxy and cfg.Targets targets of bin with
// cfg.Mountpaths mountpaths each under dir, with the durability policy
// fsync and env added to every node, and waits until the proxy's map lists
// every target.
func startCluster(ctx context.Context, cfg *Config, bin, dir, fsync string, env []string) (*servers, error) {
	s := &servers{dir: dir, pprof: map[string]string{}}
	var proxyTransport string
	node := func(name string, args ...string) (*proc.Process, error) {
		pub, err1 := freeAddr()
		tr, err2 := freeAddr()
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("no free port: %v %v", err1, err2)
		}
		ndir := filepath.Join(dir, name)
		if err := os.MkdirAll(ndir, 0o755); err != nil {
			return nil, err
		}
		a := append([]string{"-public_addr=" + pub, "-transport_addr=" + tr, "-data_dir=" + filepath.Join(ndir, "data"),
			"-fsync=" + fsync, "-log_level=warn"}, args...)
		if cfg.ProfileDir != "" {
			pp, err := freeAddr()
			if err != nil {
				return nil, err
			}
			a = append(a, "-pprof="+pp)
			s.pprof[name] = pp
		}
		p, err := startProcess(name, bin, a, env, filepath.Join(ndir, "aisnode.log"))
		if err != nil {
			return nil, err
		}
		s.procs = append(s.procs, p)
		if name == "proxy" {
			s.endpoint = "http://" + pub
			s.proxy = p
			proxyTransport = tr
		}
		return p, nil
	}
	if _, err := node("proxy", "-role=proxy"); err != nil {
		return nil, err
	}
	for i := range cfg.Targets {
		var mps []string
		for m := range cfg.Mountpaths {
			mp := filepath.Join(dir, fmt.Sprintf("target%d", i), fmt.Sprintf("mp%d", m+1))
			if err := os.MkdirAll(mp, 0o755); err != nil {
				s.stop()
				return nil, err
			}
			mps = append(mps, mp)
		}
		p, err := node(fmt.Sprintf("target%d", i), "-role=target", "-proxy="+proxyTransport, "-mountpaths="+strings.Join(mps, ","))
		if err != nil {
			s.stop()
			return nil, err
		}
		s.targets = append(s.targets, p)
	}
	if err := waitHTTP(ctx, s.endpoint+wire.PathHealth, 30*time.Second, s.procs...); err != nil {
		s.stop()
		return nil, err
	}
	c := api.NewClient(s.endpoint)
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := c.ClusterMap(ctx)
		if err == nil && len(m.ActiveTargets()) == cfg.Targets {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// profile fetches a CPU profile of every node for d (in whole seconds, at
// least one) into files named prefix-<node>.pprof, then its allocations
// since start into prefix-<node>.allocs.pprof, in the background; the
// returned function waits.
func (s *servers) profile(ctx context.Context, dir, prefix string, d time.Duration) func() {
	done := make(chan struct{}, len(s.pprof))
	for name, addr := range s.pprof {
		go func() {
			defer func() { done <- struct{}{} }()
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds())))
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(filepath.Join(dir, prefix+"-"+name+".pprof"))
			if err != nil {
				return
			}
			defer f.Close()
			io.Copy(f, resp.Body)
			// Then the allocations since the node started.
			req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/allocs", nil)
			if aresp, err := http.DefaultClient.Do(req); err == nil {
				defer aresp.Body.Close()
				if af, err := os.Create(filepath.Join(dir, prefix+"-"+name+".allocs.pprof")); err == nil {
					defer af.Close()
					io.Copy(af, aresp.Body)
				}
			}
		}()
	}
	n := len(s.pprof)
	return func() {
		for range n {
			<-done
		}
	}
}
