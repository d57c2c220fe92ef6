package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// Maintenance, shutdown and decommission of a target (proxy/maintenance.go)
// against real processes, each operation read back from Jaeger as one trace.

var startedRebalance = regexp.MustCompile(`Started rebalance "(g[0-9]+)"`)

// objectSet is the objects a test wrote, safe for concurrent use.
type objectSet struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (s *objectSet) add(name string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	s.data[name] = b
}

// pick returns a random object, or "" when there is none.
func (s *objectSet) pick() (string, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.data) == 0 {
		return "", nil
	}
	n := rand.IntN(len(s.data))
	for name, b := range s.data {
		if n--; n < 0 {
			return name, b
		}
	}
	return "", nil
}

func (s *objectSet) snapshot() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.data))
	for k, v := range s.data {
		out[k] = v
	}
	return out
}

// putObjects writes n objects named prefix-NNN into set.
func putObjects(t *testing.T, ctx context.Context, c *api.Client, bck cluster.Bucket, set *objectSet, prefix string, n int) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		b := randomBytes(1 + rand.IntN(20_000))
		if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(b), api.PutOptions{Size: int64(len(b))}); err != nil {
			t.Fatalf("PUT %s: %v", name, err)
		}
		set.add(name, b)
	}
}

// checkAll reads every object of set back through the proxy.
func checkAll(t *testing.T, ctx context.Context, c *api.Client, bck cluster.Bucket, set *objectSet, when string) {
	t.Helper()
	for name, want := range set.snapshot() {
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("GET %s %s: %v (%d bytes, want %d)", name, when, err, buf.Len(), len(want))
		}
	}
}

// objectFiles counts the object files on a target's mountpaths.
func objectFiles(t *testing.T, mountpaths []string) int {
	t.Helper()
	n := 0
	for _, mp := range mountpaths {
		buckets, _ := filepath.Glob(filepath.Join(mp, "@ais", "*", "%ob"))
		for _, dir := range buckets {
			filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					n++
				}
				return nil
			})
		}
	}
	return n
}

// waitNode polls the cluster map until cond accepts the node with id (nil
// when the map no longer has it).
func waitNode(t *testing.T, ctx context.Context, cl *harness.Cluster, id, what string, cond func(*cluster.Node) bool) *cluster.Map {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		m, err := cl.Smap(ctx)
		if err == nil && cond(m.Targets[id]) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("target %s never became %s: last map %+v (%v)", id, what, m, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExit waits until node n's process has exited by itself.
func waitExit(t *testing.T, n *harness.Node) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for n.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("%s still runs (pid %d)", n.Name, n.PID())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// membershipCLI runs "ais cluster add-remove-nodes VERB ID" with --trace and
// returns the rebalance ID it printed and the trace ID.
func membershipCLI(t *testing.T, cl *harness.Cluster, j *harness.Jaeger, verb, id string, flags ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"cluster", "add-remove-nodes", verb, id, "--trace"}, flags...)
	cmd := cl.CLI(ctx, args...)
	cmd.Env = append(cmd.Env, "AIS_JAEGER_URL="+j.QueryURL())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ais %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	ids := traceIDLine.FindAllStringSubmatch(stderr.String(), -1)
	reb := startedRebalance.FindStringSubmatch(string(out))
	if len(ids) != 1 || reb == nil {
		t.Fatalf("ais %s: want one trace ID and a rebalance ID:\n%s%s", strings.Join(args, " "), out, stderr.String())
	}
	return reb[1], ids[0][1]
}

// checkOperationTrace checks that an operation is one trace: the proxy's
// span of it under the CLI's root, finished without error, and every
// target's share of the rebalance (with its batches) in the same trace.
func checkOperationTrace(t *testing.T, j *harness.Jaeger, traceID, action string, targets int, more ...string) {
	t.Helper()
	waitTrace(t, j, traceID, func(tr *harness.Trace) error {
		op, err := one(tr, svcProxy, "cluster "+action)
		if err != nil {
			return err
		}
		// The CLI's span is the root of the operation; the rebalance's
		// batches are roots of their own in the same trace.
		var cliRoots []*harness.Span
		for _, r := range tr.Roots() {
			if tr.ServiceOf(r) == svcCLI {
				cliRoots = append(cliRoots, r)
			}
		}
		if len(cliRoots) != 1 || !hasAncestor(tr, op, cliRoots[0]) {
			return fmt.Errorf("the proxy's %s span is not under the CLI's root (%d CLI roots)", action, len(cliRoots))
		}
		if st := op.TagString("otel.status_code"); st == "ERROR" {
			return fmt.Errorf("the %s span ended with an error: %s", action, op.TagString("otel.status_description"))
		}
		if n := len(tr.Find("job.share rebalance")); n < targets {
			return fmt.Errorf("%d targets' rebalance summaries in the trace, want %d", n, targets)
		}
		if len(tr.Find("job.batch")) == 0 {
			return errors.New("no rebalance batch in the trace")
		}
		for _, name := range more {
			if len(tr.Find(name)) == 0 {
				return fmt.Errorf("no %s span in the trace", name)
			}
		}
		return nil
	})
}

func tracedCluster(t *testing.T, targets int) (*harness.Cluster, *harness.Jaeger) {
	j := harness.StartJaeger(t)
	cl := harness.StartCluster(t, harness.Options{Targets: targets, TracingEndpoint: j.OTLPEndpoint(),
		// Only the operations' traces: the CLI's --trace samples them.
		Env: []string{"AIS_TRACING_SAMPLING_PROBABILITY=0"}})
	return cl, j
}

// TestMaintenance puts a target in maintenance while clients PUT and GET:
// every GET succeeds with the right bytes throughout, every PUT succeeds,
// the rebalance finishes, the target leaves placement (it ends with no
// object on its mountpaths and new PUTs land elsewhere) and keeps running;
// stop-maintenance brings objects back to it. Each is one trace; what
// cannot be done is refused before anything changes.
func TestMaintenance(t *testing.T) {
	ctx := testContext(t)
	cl, j := tracedCluster(t, 3)
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "maint")
	var set objectSet
	putObjects(t, ctx, c, bck, &set, "before", 150)
	victim := cl.Targets()[1]
	if objectFiles(t, victim.Mountpaths) == 0 {
		t.Fatal("the target to put in maintenance holds no object: the test proves nothing")
	}

	// Refusals, before anything changes.
	smap, _ := cl.Smap(ctx)
	for _, tc := range []struct {
		name, action, id string
		opts             api.NodeOptions
		want             error
	}{
		{"unknown node", wire.ActStartMaintenance, "no-such-node", api.NodeOptions{}, cluster.ErrNotFound},
		{"the primary proxy", wire.ActStartMaintenance, cl.Proxy().ID, api.NodeOptions{}, cluster.ErrBadRequest},
		{"not in maintenance", wire.ActStopMaintenance, victim.ID, api.NodeOptions{}, cluster.ErrBadRequest},
		{"skip_rebalance", wire.ActDecommissionNode, victim.ID, api.NodeOptions{SkipRebalance: true}, cluster.ErrNotImplemented},
		{"decommission option on maintenance", wire.ActStartMaintenance, victim.ID, api.NodeOptions{RmUserData: true}, cluster.ErrBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.NodeAction(ctx, tc.action, tc.id, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("%s %s: %v, want %v", tc.action, tc.id, err, tc.want)
			}
		})
	}
	if m, _ := cl.Smap(ctx); m.Version != smap.Version {
		t.Fatalf("refused requests changed the map: v%d -> v%d", smap.Version, m.Version)
	}

	// Load: PUTs of new objects and GETs of every kind of object, all the
	// time the target enters maintenance.
	// The load stops between requests (a request cut short could still
	// have stored its object).
	var stopLoad atomic.Bool
	var wg sync.WaitGroup
	var gets, puts atomic.Int64
	errc := make(chan error, 16)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
	}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stopLoad.Load(); i++ {
				if w%2 == 0 {
					name := fmt.Sprintf("during-%d-%05d", w, i)
					b := randomBytes(1 + rand.IntN(8_000))
					if _, err := c.PutObject(ctx, bck, name, bytes.NewReader(b), api.PutOptions{Size: int64(len(b))}); err != nil {
						fail(fmt.Errorf("PUT %s during maintenance: %w", name, err))
						return
					}
					set.add(name, b)
					puts.Add(1)
					continue
				}
				name, want := set.pick()
				var buf bytes.Buffer
				if _, err := c.GetObject(ctx, bck, name, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), want) {
					fail(fmt.Errorf("GET %s during maintenance: %v (%d bytes, want %d)", name, err, buf.Len(), len(want)))
					return
				}
				gets.Add(1)
			}
		})
	}

	rebID, traceID := membershipCLI(t, cl, j, "start-maintenance", victim.ID)
	// One change at a time.
	if _, err := c.StartMaintenance(ctx, cl.Targets()[2].ID); !errors.Is(err, cluster.ErrBusy) {
		t.Errorf("a second start-maintenance while the first runs: %v, want ErrBusy", err)
	}
	st, err := c.WaitJob(ctx, rebID, api.WaitOptions{Poll: 200 * time.Millisecond})
	if err != nil || st.Aborted {
		t.Fatalf("rebalance %s: %+v, %v", rebID, st, err)
	}
	smap = waitNode(t, ctx, cl, victim.ID, "in maintenance after the rebalance", func(n *cluster.Node) bool {
		return n != nil && n.Flags == cluster.FlagMaintenance|cluster.FlagMaintenancePostRebalance
	})
	// Some more load once the target is out of placement.
	for before := puts.Load() + gets.Load(); puts.Load()+gets.Load() < before+100; {
		select {
		case err := <-errc:
			t.Fatal(err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	stopLoad.Store(true)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	t.Logf("during maintenance: %d PUTs, %d GETs, all served", puts.Load(), gets.Load())
	if puts.Load() == 0 || gets.Load() == 0 {
		t.Fatal("no load ran during maintenance")
	}

	if !victim.Running() {
		t.Fatal("the target in maintenance exited")
	}
	if n := objectFiles(t, victim.Mountpaths); n != 0 {
		t.Errorf("the target in maintenance still holds %d objects", n)
	}
	all := set.snapshot()
	for name := range all {
		if owner, err := smap.Owner(bck.Uname(name)); err != nil || owner.ID == victim.ID {
			t.Fatalf("%s: owner %v, %v: the target in maintenance is in placement", name, owner, err)
		}
	}
	putObjects(t, ctx, c, bck, &set, "after", 30)
	if n := objectFiles(t, victim.Mountpaths); n != 0 {
		t.Errorf("new PUTs landed on the target in maintenance (%d objects)", n)
	}
	checkAll(t, ctx, c, bck, &set, "in maintenance")
	if entries, err := c.ListObjects(ctx, bck, api.ListOptions{}); err != nil || len(entries) != len(set.snapshot()) {
		t.Fatalf("list in maintenance: %d entries, %v; want %d", len(entries), err, len(set.snapshot()))
	}
	checkOperationTrace(t, j, traceID, wire.ActStartMaintenance, 3)
	if out := cl.RunCLI(t, "show", "cluster"); !strings.Contains(out, "maintenance") {
		t.Errorf("ais show cluster does not show the maintenance:\n%s", out)
	}
	if _, err := c.StartMaintenance(ctx, victim.ID); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("start-maintenance of a target in maintenance: %v, want ErrBadRequest", err)
	}

	// Back into placement: what it owns again moves back.
	rebID, traceID = membershipCLI(t, cl, j, "stop-maintenance", victim.ID)
	if st, err := c.WaitJob(ctx, rebID, api.WaitOptions{Poll: 200 * time.Millisecond}); err != nil || st.Aborted {
		t.Fatalf("rebalance %s: %+v, %v", rebID, st, err)
	}
	smap = waitNode(t, ctx, cl, victim.ID, "back in placement", func(n *cluster.Node) bool { return n != nil && n.Flags == 0 })
	owned := 0
	for name := range set.snapshot() {
		if owner, _ := smap.Owner(bck.Uname(name)); owner != nil && owner.ID == victim.ID {
			owned++
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for objectFiles(t, victim.Mountpaths) != owned {
		if time.Now().After(deadline) {
			t.Fatalf("the target back from maintenance holds %d objects, owns %d", objectFiles(t, victim.Mountpaths), owned)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if owned == 0 {
		t.Fatal("the target back from maintenance owns nothing: the test proves nothing")
	}
	checkAll(t, ctx, c, bck, &set, "after stop-maintenance")
	checkOperationTrace(t, j, traceID, wire.ActStopMaintenance, 3)
}

// TestDecommission decommissions a target (with rm_user_data, one of its
// mountpaths disabled first): every object stays readable, the target
// leaves the map and exits, its state directory and mountpaths (the
// disabled one too) are emptied; then another one with no_shutdown (its state
// goes, its mountpaths hold no object, it keeps running out of the
// cluster); the last target is refused.
func TestDecommission(t *testing.T) {
	ctx := testContext(t)
	cl, j := tracedCluster(t, 3)
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "decomm")
	var set objectSet
	putObjects(t, ctx, c, bck, &set, "obj", 120)

	for i, rmData := range []bool{true, false} {
		victim := cl.Targets()[i]
		noShutdown := !rmData
		var flags []string
		if rmData {
			flags = append(flags, "--rm-user-data")
		}
		if noShutdown {
			flags = append(flags, "--no-shutdown")
		}
		if objectFiles(t, victim.Mountpaths) == 0 {
			t.Fatalf("%s holds no object: the test proves nothing", victim.Name)
		}
		if rmData && len(victim.Mountpaths) > 1 {
			// rm_user_data empties a disabled mountpath too.
			disableMountpath(t, ctx, cl, victim.ID, victim.Mountpaths[0])
		}
		_, traceID := membershipCLI(t, cl, j, "decommission", victim.ID, flags...)
		if !noShutdown {
			waitExit(t, victim)
		}
		smap := waitNode(t, ctx, cl, victim.ID, "removed", func(n *cluster.Node) bool { return n == nil })
		if len(smap.Targets) != 2-i {
			t.Fatalf("%d targets left in the map, want %d", len(smap.Targets), 2-i)
		}
		if noShutdown {
			// It runs on, out of the cluster: it does not join again (a
			// keepalive a second would have brought it back by now).
			time.Sleep(3 * time.Second)
			if m, _ := cl.Smap(ctx); !victim.Running() || m.Targets[victim.ID] != nil {
				t.Fatalf("%s with no_shutdown: running %v, in the map %v", victim.Name, victim.Running(), m.Targets[victim.ID] != nil)
			}
		}
		checkAll(t, ctx, c, bck, &set, "after the decommission of "+victim.Name)
		if left, _ := os.ReadDir(victim.DataDir); len(left) != 0 {
			t.Errorf("%s: its state directory still holds %d entries", victim.Name, len(left))
		}
		if n := objectFiles(t, victim.Mountpaths); n != 0 {
			t.Errorf("%s: %d objects left on its mountpaths", victim.Name, n)
		}
		for _, mp := range victim.Mountpaths {
			left, _ := os.ReadDir(mp)
			if rmData && len(left) != 0 {
				t.Errorf("%s: rm_user_data left %d entries in %s", victim.Name, len(left), mp)
			}
		}
		checkOperationTrace(t, j, traceID, wire.ActDecommissionNode, 3-i, "target.leave")
	}
	last := cl.Targets()[2]
	if _, err := c.NodeAction(ctx, wire.ActDecommissionNode, last.ID, api.NodeOptions{}); !errors.Is(err, cluster.ErrBadRequest) {
		t.Fatalf("decommission of the last target: %v, want ErrBadRequest", err)
	}
	checkAll(t, ctx, c, bck, &set, "on the last target")
}

// TestShutdownRestart shuts a target down: its objects move away, it exits
// and stays in the map in maintenance; restarted, it rejoins still in
// maintenance (owning nothing), and stop-maintenance brings it back.
func TestShutdownRestart(t *testing.T) {
	ctx := testContext(t)
	cl, j := tracedCluster(t, 3)
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "shut")
	var set objectSet
	putObjects(t, ctx, c, bck, &set, "obj", 90)
	const i = 2
	victim := cl.Targets()[i]

	_, traceID := membershipCLI(t, cl, j, "shutdown", victim.ID)
	waitExit(t, victim)
	waitNode(t, ctx, cl, victim.ID, "in the map, in maintenance, down", func(n *cluster.Node) bool {
		return n != nil && n.Flags == cluster.FlagMaintenance|cluster.FlagMaintenancePostRebalance && n.Down()
	})
	checkAll(t, ctx, c, bck, &set, "with the target shut down")
	if n := objectFiles(t, victim.Mountpaths); n != 0 {
		t.Errorf("the shut-down target still holds %d objects", n)
	}
	checkOperationTrace(t, j, traceID, wire.ActShutdownNode, 3)
	// The primary answers the node_status of the target it knows is in
	// maintenance, down as it is.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cl.ProxyURL()+"/v1/reverse/daemon?what=node_status", nil)
	req.Header.Set(wire.HdrNodeID, victim.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ns wire.NodeStatus
	err = json.NewDecoder(resp.Body).Decode(&ns)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || ns.Status != "maintenance" || ns.Node == nil || ns.Node.ID != victim.ID {
		t.Fatalf("node_status of the shut-down target: %s, %+v, %v", resp.Status, ns, err)
	}
	if _, err := c.StopMaintenance(ctx, victim.ID); !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("stop-maintenance of a target that is down: %v, want ErrUnavailable", err)
	}

	cl.StartTarget(i)
	smap := waitNode(t, ctx, cl, victim.ID, "back up, in maintenance", func(n *cluster.Node) bool {
		return n != nil && !n.Down() && n.Flags == cluster.FlagMaintenance|cluster.FlagMaintenancePostRebalance
	})
	if len(smap.PlacementTargets()) != 2 {
		t.Fatalf("%d targets in placement after the restart, want 2", len(smap.PlacementTargets()))
	}
	putObjects(t, ctx, c, bck, &set, "restarted", 20)
	if n := objectFiles(t, victim.Mountpaths); n != 0 {
		t.Errorf("PUTs landed on the restarted target in maintenance (%d objects)", n)
	}

	rebID, _ := membershipCLI(t, cl, j, "stop-maintenance", victim.ID)
	if st, err := c.WaitJob(ctx, rebID, api.WaitOptions{Poll: 200 * time.Millisecond}); err != nil || st.Aborted {
		t.Fatalf("rebalance %s: %+v, %v", rebID, st, err)
	}
	smap = waitNode(t, ctx, cl, victim.ID, "back in placement", func(n *cluster.Node) bool { return n != nil && n.Flags == 0 })
	deadline := time.Now().Add(60 * time.Second)
	for objectFiles(t, victim.Mountpaths) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no object moved back to the target after stop-maintenance")
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkAll(t, ctx, c, bck, &set, "after stop-maintenance")
	if len(smap.PlacementTargets()) != 3 {
		t.Fatalf("%d targets in placement, want 3", len(smap.PlacementTargets()))
	}
}

// The membership rows of TestSurface: each sends AIStore's request and
// checks what it did, leaving the cluster as it found it.
func init() {
	surfaceExamples["action:start-maintenance"] = func(e *surfaceEnv) (int, string) {
		s, b := e.surfaceMembership(wire.ActStartMaintenance, e.other.ID, cluster.FlagMaintenance|cluster.FlagMaintenancePostRebalance)
		e.surfaceBack(e.other.ID)
		return s, b
	}
	surfaceExamples["action:stop-maintenance"] = func(e *surfaceEnv) (int, string) {
		if _, err := e.c.StartMaintenance(e.ctx, e.other.ID); err != nil {
			e.t.Fatal(err)
		}
		waitNode(e.t, e.ctx, e.cl, e.other.ID, "in maintenance", func(n *cluster.Node) bool {
			return n != nil && n.Flags&cluster.FlagMaintenancePostRebalance != 0
		})
		return e.surfaceMembership(wire.ActStopMaintenance, e.other.ID, 0)
	}
	surfaceExamples["action:shutdown-node"] = func(e *surfaceEnv) (int, string) {
		s, b := e.surfaceMembership(wire.ActShutdownNode, e.other.ID, cluster.FlagMaintenance|cluster.FlagMaintenancePostRebalance)
		if s != http.StatusOK {
			return s, b
		}
		waitExit(e.t, e.other)
		for i, n := range e.cl.Targets() {
			if n == e.other {
				e.cl.StartTarget(i)
			}
		}
		e.surfaceBack(e.other.ID)
		return s, b
	}
	surfaceExamples["action:decommission-node"] = func(e *surfaceEnv) (int, string) {
		// A target of its own, so that the cluster keeps its two.
		id := startExtraTarget(e.t, e.cl)
		waitTargets(e.t, e.ctx, e.cl, 3)
		waitNoRebalance(e.t, e.ctx, e.c) // the join's
		s, b := e.surfaceMembership(wire.ActDecommissionNode, id, 0)
		if s == http.StatusOK {
			waitNode(e.t, e.ctx, e.cl, id, "removed", func(n *cluster.Node) bool { return n == nil })
			waitTargets(e.t, e.ctx, e.cl, 2)
		}
		return s, b
	}
}

// surfaceMembership sends membership action for id as AIStore's CLI does
// and waits for its rebalance and for the node's flags to become want
// (decommission: for its removal, by the caller).
func (e *surfaceEnv) surfaceMembership(action, id string, want uint64) (int, string) {
	body := `{"action":"` + action + `","value":{"sid":"","sids":["` + id + `"],"skip_rebalance":false,"rm_user_data":false,"keep_initial_config":false,"no_shutdown":false}}`
	s, _, rebID := e.send("PUT", e.proxy("/v1/cluster"), nil, body)
	if s != http.StatusOK {
		return s, rebID
	}
	if !startedRebalanceID.MatchString(rebID) {
		e.t.Errorf("%s: reply %q, want a rebalance ID", action, rebID)
	}
	if st := waitJob(e.t, e.ctx, e.c, rebID, time.Minute); !st.Finished() || st.Aborted {
		e.t.Errorf("%s: rebalance %s: %+v", action, rebID, st)
	}
	if action != wire.ActDecommissionNode {
		waitNode(e.t, e.ctx, e.cl, id, fmt.Sprintf("flagged %#x", want), func(n *cluster.Node) bool { return n != nil && n.Flags == want })
	}
	return s, rebID
}

// surfaceBack takes target id out of maintenance and waits for its objects.
func (e *surfaceEnv) surfaceBack(id string) {
	rebID, err := e.c.StopMaintenance(e.ctx, id)
	if err != nil {
		e.t.Fatalf("stop-maintenance %s: %v", id, err)
	}
	waitJob(e.t, e.ctx, e.c, rebID, time.Minute)
	waitNode(e.t, e.ctx, e.cl, id, "back", func(n *cluster.Node) bool { return n != nil && n.Flags == 0 })
}

var startedRebalanceID = regexp.MustCompile(`^g[0-9]+$`)

// waitNoRebalance waits until no target runs a rebalance.
func waitNoRebalance(t testing.TB, ctx context.Context, c *api.Client) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		snaps, err := c.QueryJobs(ctx, api.OnlyRunning(wire.KindRebalance))
		running := err != nil
		for _, list := range snaps {
			running = running || len(list) > 0
		}
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a rebalance still runs: %+v, %v", snaps, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// disableMountpath disables mountpath path of target id (AIStore's
// disable-mp, with its resilver) and waits until it is disabled.
func disableMountpath(t *testing.T, ctx context.Context, cl *harness.Cluster, id, path string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"action": "disable-mp", "value": path})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cl.ProxyURL()+"/v1/reverse/daemon/mountpaths", bytes.NewReader(body))
	req.Header.Set(wire.HdrNodeID, id)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("disable-mp %s on %s: %d %s", path, id, resp.StatusCode, b)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var ml wire.MountpathList
		getJSON(t, ctx, cl.ProxyURL()+"/v1/reverse/daemon?what=mountpaths", map[string]string{wire.HdrNodeID: id}, &ml)
		if slices.Contains(ml.Disabled, path) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mountpath %s of %s not disabled within a minute: %+v", path, id, ml)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
