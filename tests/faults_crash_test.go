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
// concurrent PUTs while one target is killed with SIGKILL at a random moment,
// then restarts it. Every PUT that was acknowledged must read back
// byte-identical with a matching checksum; a PUT that failed must be either
// absent or complete; no file on any mountpath may hold a partial object;
// and the work files the crash left must be gone after the restart.
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
		size  int
		acked bool
		cksum string
		err   error
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
					data := content(a.name, a.size)
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
	sizes := map[string]int{}
	for _, a := range all {
		sizes[a.name] = a.size
		var buf bytes.Buffer
		attrs, err := c.GetObject(ctx, bck, a.name, &buf, api.GetOptions{})
		if a.acked {
			acked++
		}
		switch {
		case errors.Is(err, cluster.ErrNotFound) && !a.acked:
			continue
		case err != nil:
			t.Errorf("GET %s (acknowledged %v): %v", a.name, a.acked, err)
			continue
		}
		present++
		want := content(a.name, a.size)
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("GET %s (acknowledged %v): %d bytes differ from the %d written", a.name, a.acked, buf.Len(), len(want))
			continue
		}
		if attrs.Checksum.Value != xxh(want) || (a.acked && a.cksum != xxh(want)) {
			t.Errorf("GET %s: checksum %s, PUT said %s, content has %s", a.name, attrs.Checksum.Value, a.cksum, xxh(want))
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
			size, ok := sizes[name]
			if !ok {
				t.Errorf("unexpected file %s", path)
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("read %s: %v", path, err)
			} else if !bytes.Equal(b, content(name, size)) {
				t.Errorf("%s holds %d bytes that are not the %d written", path, len(b), size)
			}
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
		if size, ok := sizes[e.Name]; !ok || e.Size != int64(size) || e.Checksum != xxh(content(e.Name, size)) {
			t.Errorf("listed %s: size %d checksum %s, want %d %s", e.Name, e.Size, e.Checksum, size, xxh(content(e.Name, size)))
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
