package matrix

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"miniais/bench/loader"
)

// buildBinaries builds aisnode and refserver into a temporary directory.
func buildBinaries(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "miniais/cmd/aisnode", "miniais/bench/cmd/refserver")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestRun runs a small matrix on real processes (the reference server and
// a 1-target cluster): the cells come in the interleaved order, every
// window counts operations and node CPU time, and the tables and the
// memory figures are there.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts real nodes")
	}
	bin := buildBinaries(t)
	var out strings.Builder
	res, err := Run(context.Background(), Config{
		BinDir: bin, TempDir: t.TempDir(), Duration: 1500 * time.Millisecond, Repeats: 2, Workers: 2,
		Sizes: []int64{4 << 10}, Targets: 1, Mountpaths: 1, Rows: []string{RowRef, RowProxy}, Memory: true, Out: &out,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var got []string
	var cpu time.Duration
	for _, c := range res.Cells {
		got = append(got, fmt.Sprintf("%s %s r%d", c.Row, c.Op, c.Repeat))
		if c.Window.Ops == 0 || c.Window.Bytes != c.Window.Ops*4<<10 || c.Window.Elapsed < 400*time.Millisecond {
			t.Errorf("%s %s r%d: window %+v", c.Row, c.Op, c.Repeat, c.Window)
		}
		if c.St.Errors != 0 {
			t.Errorf("%s %s r%d: %d errors: %s", c.Row, c.Op, c.Repeat, c.St.Errors, c.St.FirstError)
		}
		cpu += c.Window.CPU
		var sum time.Duration
		for _, n := range c.Window.Nodes {
			sum += n.CPU
		}
		if wantNodes := map[string]int{RowRef: 1, RowProxy: 2}[c.Row]; len(c.Window.Nodes) != wantNodes || sum != c.Window.CPU {
			t.Errorf("%s %s r%d: nodes %+v (want %d) do not add up to %v", c.Row, c.Op, c.Repeat, c.Window.Nodes, wantNodes, c.Window.CPU)
		}
	}
	want := []string{
		"ref PUT r0", "proxy PUT r0", "ref GET r0", "proxy GET r0",
		"proxy PUT r1", "ref PUT r1", "proxy GET r1", "ref GET r1",
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("cells\n%s\nwant\n%s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	if cpu == 0 {
		t.Error("no node CPU time in any window")
	}
	if len(res.Memory) != 3 { // refserver, proxy, target0
		t.Errorf("memory of %d nodes, want 3: %+v", len(res.Memory), res.Memory)
	}
	for _, m := range res.Memory {
		if m.Idle <= 0 || m.Peak < m.Idle {
			t.Errorf("memory %+v", m)
		}
	}
	for _, s := range []string{"| GET 4KiB |", "| 4KiB | PUT |", "| miniais | target0 |"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	if n := len(res.samples(RowProxy, 4<<10, loader.OpGet)); n != 2 {
		t.Errorf("%d proxy GET samples, want 2", n)
	}
}
