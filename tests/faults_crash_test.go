package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"miniais/api"
	"miniais/cluster"
	"miniais/tests/harness"
)

// crashLoad describes one crash-consistency run.
type crashLoad struct {
	PUTs    int // objects written concurrently
	Workers int // concurrent PUTs
	Rounds  int // kill-and-restart rounds (each with fresh objects)
	MaxSize int // largest object
}

// TestCrashConsistency writes objects of mixed sizes (up to 8 MiB) with many
// concurrent PUTs (durable: the nodes run with the default -fsync=always, so
// the PUTs share flushes) while one target is killed with SIGKILL at a
// random moment, then restarts it. One PUT in eight overwrites an object
// acknowledged before the load. Every PUT that was acknowledged must read
// back byte-identical with a matching checksum; a new object whose PUT
// failed must be either absent or complete, an overwritten one whole in its
// old version or in its new one; no file on any mountpath may hold a
// partial object; and the work files the crash left must be gone after the
// restart.
func TestCrashConsistency(t *testing.T) {
	runCrashConsistency(t, crashLoad{PUTs: 600, Workers: 32, Rounds: 1, MaxSize: 8 << 20})
}

// objectSize draws a size: 40% up to 16 KiB, 30% up to 256 KiB, 20% up to
// 2 MiB, 10% up to max.
func objectSize(rng *rand.Rand, max int) int {
	switch p := rng.IntN(10); {
	case p < 4:
		return rng.IntN(16 << 10)
	case p < 7:
		return rng.IntN(256 << 10)
	case p < 9:
		return rng.IntN(2 << 20)
	default:
		return rng.IntN(max + 1)
	}
}

func runCrashConsistency(t *testing.T, load crashLoad) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cl := harness.StartCluster(t, harness.Options{Targets: 3, Mountpaths: 2, LogLevel: "info"})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "crash")

	type attempt struct {
		name  string
		tag   string // content seed suffix: "" for a new object, "#2" for an overwrite
		size  int
		prev  *attempt // the acknowledged version an overwrite replaces
		acked bool
		cksum string
		err   error
	}
	want := func(a *attempt) []byte { return content(a.name+a.tag, a.size) }
	// accepted lists the contents the object of a may have after the crash.
	accepted := func(a *attempt) [][]byte {
		if a.prev == nil || a.acked {
			return [][]byte{want(a)}
		}
		return [][]byte{want(a), want(a.prev)}
	}
	var all []*attempt
	for round := range load.Rounds {
		smap, err := c.ClusterMap(ctx)
		if err != nil {
			t.Fatal(err)
		}
		victim := rng.IntN(len(cl.Targets()))
		victimNode := cl.Targets()[victim]
		attempts := make([]*attempt, load.PUTs)
		onVictim := 0
		for i := range attempts {
			a := &attempt{name: fmt.Sprintf("r%d/obj-%04d", round, i), size: objectSize(rng, load.MaxSize)}
			if i%8 == 7 {
				// An overwrite of an object acknowledged before the load.
				base := &attempt{name: fmt.Sprintf("r%d/ow-%04d", round, i), size: objectSize(rng, 256<<10)}
				data := want(base)
				if _, err := c.PutObject(ctx, bck, base.name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))}); err != nil {
					t.Fatalf("PUT %s before the load: %v", base.name, err)
				}
				base.acked = true
				a.name, a.tag, a.prev = base.name, "#2", base
			}
			attempts[i] = a
			if o, _ := smap.Owner(bck.Uname(a.name)); o != nil && o.ID == victimNode.ID {
				onVictim++
			}
		}
		// Kill after a random number of acknowledged PUTs, so that the
		// kill lands in the middle of the load.
		killAfter := int64(load.PUTs/10 + rng.IntN(load.PUTs/3))
		var acks atomic.Int64
		killNow := make(chan struct{})
		var killOnce sync.Once

		work := make(chan *attempt)
		var wg sync.WaitGroup
		start := time.Now()
		for range load.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for a := range work {
					data := want(a)
					pctx, pcancel := context.WithTimeout(ctx, 2*time.Minute)
					attrs, err := c.PutObject(pctx, bck, a.name, bytes.NewReader(data), api.PutOptions{Size: int64(len(data))})
					pcancel()
					a.err = err
					if err == nil {
						a.acked, a.cksum = true, attrs.Checksum.Value
						if acks.Add(1) == killAfter {
							killOnce.Do(func() { close(killNow) })
						}
					}
				}
			}()
		}
		killed := make(chan time.Time, 1)
		go func() {
			<-killNow
			// SIGKILL, not through the harness's t-bound helpers (this is
			// not the test goroutine); the harness waits for the exit below.
			if pid := victimNode.PID(); pid != 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			killed <- time.Now()
		}()
		for _, a := range attempts {
			work <- a
		}
		close(work)
		wg.Wait()
		killOnce.Do(func() { close(killNow) }) // fewer acks than planned
		killedAt := <-killed
		cl.StopNode(victimNode, syscall.SIGKILL) // waits for the exit
		failed := 0
		for _, a := range attempts {
			if !a.acked {
				failed++
			}
		}
		t.Logf("round %d: %d PUTs (%d owned by %s) in %v with %d workers; %s killed after %d acks at %v; %d PUTs failed",
			round, load.PUTs, onVictim, victimNode.Name, time.Since(start).Round(time.Millisecond), load.Workers,
			victimNode.Name, killAfter, killedAt.Sub(start).Round(time.Millisecond), failed)
		if failed == 0 {
			t.Errorf("round %d: no PUT failed although %s was killed during the load", round, victimNode.Name)
		}
		// The PUTs that failed must have failed for the kill, not for
		// anything else.
		for _, a := range attempts {
			if a.err != nil && !errors.Is(a.err, cluster.ErrUnavailable) && !isConnReset(a.err) {
				t.Errorf("PUT %s failed for another reason than the dead target: %v", a.name, a.err)
			}
		}

		left := workFiles(t, victimNode.Mountpaths)
		t.Logf("round %d: the crash left %d work files on %s", round, len(left), victimNode.Name)
		cl.StartTarget(victim)
		if files := workFiles(t, victimNode.Mountpaths); len(files) != 0 {
			t.Errorf("round %d: work files survived the restart: %v", round, files)
		}
		all = append(all, attempts...)
	}

	// Every acknowledged PUT reads back; every other one is absent or whole.
	acked, present := 0, 0
	byName := map[string]*attempt{}
	for _, a := range all {
		byName[a.name] = a
		var buf bytes.Buffer
		attrs, err := c.GetObject(ctx, bck, a.name, &buf, api.GetOptions{})
		if a.acked {
			acked++
		}
		switch {
		case errors.Is(err, cluster.ErrNotFound) && !a.acked && a.prev == nil:
			continue
		case err != nil:
			t.Errorf("GET %s (acknowledged %v): %v", a.name, a.acked, err)
			continue
		}
		present++
		ok := false
		for _, w := range accepted(a) {
			ok = ok || bytes.Equal(buf.Bytes(), w)
		}
		if !ok {
			t.Errorf("GET %s (acknowledged %v, overwrite %v): %d bytes differ from the %d written", a.name, a.acked, a.prev != nil, buf.Len(), a.size)
			continue
		}
		if got := xxh(buf.Bytes()); attrs.Checksum.Value != got || (a.acked && a.cksum != got) {
			t.Errorf("GET %s: checksum %s, PUT said %s, content has %s", a.name, attrs.Checksum.Value, a.cksum, got)
		}
	}
	// No file on any mountpath holds a partial object, visible or not.
	for _, mp := range allMountpaths(cl) {
		dir := filepath.Join(mp, "@ais", bck.Name, "%ob")
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name, _ := filepath.Rel(dir, path)
			a, ok := byName[name]
			if !ok {
				t.Errorf("unexpected file %s", path)
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v", path, err)
				return nil
			}
			for _, w := range accepted(a) {
				if bytes.Equal(b, w) {
					return nil
				}
			}
			t.Errorf("%s holds %d bytes that are not the %d written", path, len(b), a.size)
			return nil
		})
	}
	// The listing agrees.
	entries, err := c.ListObjects(ctx, bck, api.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != present {
		t.Errorf("listing has %d objects, GET found %d", len(entries), present)
	}
	for _, e := range entries {
		a, ok := byName[e.Name]
		if !ok {
			t.Errorf("listed %s, which was never written", e.Name)
			continue
		}
		match := false
		for _, w := range accepted(a) {
			match = match || (e.Size == int64(len(w)) && e.Checksum == xxh(w))
		}
		if !match {
			t.Errorf("listed %s: size %d checksum %s, not one of the versions written", e.Name, e.Size, e.Checksum)
		}
	}
	t.Logf("%d PUTs over %d rounds: %d acknowledged, all read back byte-identical; %d present in all", len(all), load.Rounds, acked, present)
}

// isConnReset reports whether err is a connection-level failure a client
// sees when the node it talks to is killed mid-request.
func isConnReset(err error) bool {
	s := err.Error()
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "EOF")
}
