package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
	"miniais/job"
	"miniais/tracing"
	"miniais/transport"
)

// newJobTarget returns a target made by New (not running) with bucket
// "dst" and a map that lists it and a peer "t-peer".
func newJobTarget(t *testing.T) *Target {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "mp1"), 0o755); err != nil {
		t.Fatal(err)
	}
	tg, err := New(Config{ID: "t-self", PublicAddr: "127.0.0.1:1", TransportAddr: "127.0.0.1:2", ProxyAddr: "127.0.0.1:3",
		DataDir: filepath.Join(dir, "data"), Mountpaths: []string{filepath.Join(dir, "mp1")}, Fsync: fs.FsyncNever, Tracing: tracing.Disabled()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.client.Close() })
	smap := cluster.NewMap("u", cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:4", "127.0.0.1:5"))
	for _, id := range []string{"t-self", "t-peer"} {
		smap.Targets[id] = cluster.NewNode(id, cluster.RoleTarget, "127.0.0.1:6", "127.0.0.1:7")
	}
	smap.Version = 3
	tg.smap.Store(smap)
	bmd := cluster.NewBMD("u")
	bmd.Version = 1
	bmd.Buckets["dst"] = cluster.DefaultBucketProps(cluster.AISBucketID(1), time.Now())
	if err := tg.applyBMD(context.Background(), bmd); err != nil {
		t.Fatal(err)
	}
	return tg
}

// jobObject sends an object of job id to tg as peer would.
func jobObject(tg *Target, sender, id, bucket, name string, data []byte, cksum string) (*transport.Header, error) {
	h := &transport.Header{Kind: transport.KindJobObject, Sender: sender, Bucket: bucket, Object: name, Size: int64(len(data)),
		Opaque: []byte(id), Checksum: cluster.Checksum{Type: "xxhash2", Value: cksum}}
	reply := &transport.Header{}
	_, err := tg.handleJobObject(context.Background(), &transport.Message{Header: h, Body: bytes.NewReader(data)}, reply)
	return reply, err
}

func xxhashOf(b []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(b)) }

// TestJobObject: the receiving side of a copy stores what a peer sends for
// a job it knows (overwriting, verifying the checksum), refuses an unknown
// or aborted job (the sender's share then aborts), a bucket other than the
// job's destination and a sender outside the map, and tells a busy sender
// to slow down.
func TestJobObject(t *testing.T) {
	tg := newJobTarget(t)
	ctx := context.Background()
	dst := cluster.NewBucket("dst")
	j := job.New(ctx, job.Desc{ID: "CopyJob123", Kind: wire.KindCopyBck, Bck: cluster.NewBucket("src"), Src: cluster.NewBucket("src"), Dst: dst})
	if err := tg.jobs.Add(j); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.store.Put(ctx, dst, "o", bytes.NewReader([]byte("old")), fs.PutOptions{Size: 3}); err != nil {
		t.Fatal(err)
	}
	data := []byte("the new content")
	if _, err := jobObject(tg, "t-peer", "CopyJob123", "dst", "o", data, xxhashOf(data)); err != nil {
		t.Fatalf("a job object: %v", err)
	}
	obj, err := tg.store.Open(ctx, dst, "o", fs.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj)
	obj.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("stored %q, want the copy to overwrite with %q", got, data)
	}
	if st := j.Stats.Load(); st.InObjs != 1 || st.InBytes != int64(len(data)) {
		t.Errorf("in counters %+v", st)
	}
	tests := []struct {
		name, sender, id, bucket string
		body                     []byte
		cksum                    string
		want                     error
	}{
		{"bad checksum", "t-peer", "CopyJob123", "dst", data, "0000000000000000", cluster.ErrChecksum},
		{"unknown job", "t-peer", "NoSuchJob1", "dst", data, xxhashOf(data), cluster.ErrNotFound},
		{"another bucket", "t-peer", "CopyJob123", "src", data, xxhashOf(data), cluster.ErrBadRequest},
		{"a stranger", "t-stranger", "CopyJob123", "dst", data, xxhashOf(data), cluster.ErrBadRequest},
		{"bad name", "t-peer", "CopyJob123", "dst", data, xxhashOf(data), cluster.ErrBadName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "p"
			if tc.name == "bad name" {
				name = "../p"
			}
			if _, err := jobObject(tg, tc.sender, tc.id, tc.bucket, name, tc.body, tc.cksum); !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
			if _, err := tg.store.Head(ctx, dst, "p"); !errors.Is(err, cluster.ErrNotFound) {
				t.Errorf("a refused object was stored: %v", err)
			}
		})
	}

	// A busy receiver says so; an idle one does not.
	tg.fgLast.Store(time.Now().UnixNano())
	if reply, err := jobObject(tg, "t-peer", "CopyJob123", "dst", "b", data, xxhashOf(data)); err != nil || string(reply.Opaque) != "busy" {
		t.Errorf("busy receiver: reply %q, %v", reply.Opaque, err)
	}
	tg.fgLast.Store(time.Now().Add(-time.Second).UnixNano())
	if reply, err := jobObject(tg, "t-peer", "CopyJob123", "dst", "b", data, xxhashOf(data)); err != nil || len(reply.Opaque) != 0 {
		t.Errorf("idle receiver: reply %q, %v", reply.Opaque, err)
	}
	// A finished share still receives the others' objects; an aborted one
	// takes none.
	j.Finish(nil)
	if _, err := jobObject(tg, "t-peer", "CopyJob123", "dst", "c", data, xxhashOf(data)); err != nil {
		t.Errorf("after this target's share finished: %v", err)
	}
	j2 := job.New(ctx, job.Desc{ID: "CopyJob456", Kind: wire.KindCopyBck, Dst: dst})
	tg.jobs.Add(j2)
	j2.Abort(job.ErrStopped)
	if _, err := jobObject(tg, "t-peer", "CopyJob456", "dst", "d", data, xxhashOf(data)); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("to an aborted share: %v, want not found", err)
	}
}

// TestRunUnprepared: a run for a job this target did not prepare is not
// found.
func TestRunUnprepared(t *testing.T) {
	tg := newJobTarget(t)
	if err := tg.runPrepared(context.Background(), "NoSuchJob1"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("run of an unprepared job: %v", err)
	}
}

func TestForegroundBusy(t *testing.T) {
	tg := newJobTarget(t)
	tg.fgLast.Store(time.Now().Add(-time.Second).UnixNano())
	if tg.foregroundBusy() {
		t.Error("busy with nothing in flight")
	}
	tg.inFlight.Add(1)
	if !tg.foregroundBusy() {
		t.Error("not busy with a request in flight")
	}
	tg.inFlight.Add(-1)
	tg.fgLast.Store(time.Now().UnixNano())
	if !tg.foregroundBusy() {
		t.Error("not busy right after a request")
	}
}
