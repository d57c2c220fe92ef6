package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
)

// # Append and flush
//
// PUT ?append_type=append&append_handle=H adds the body to a pending new
// version of the object, an fs.Writer (a work file and its running
// checksum) that this target keeps in memory; the reply's Ais-Append-Handle
// names it. An empty handle starts one, from the object's current content
// when it exists. PUT ?append_type=flush&append_handle=H commits it: only
// then is the object visible (atomically, as a PUT), with the running
// checksum; checksum headers on the flush are compared with it first, and
// a mismatch is refused with nothing visible (the pending version is then
// dropped). A failed append (a cut-off or wrong-sized body, a checksum
// mismatch of the piece) changes nothing: the same handle goes on.
//
// The handle is "<id>.<seq>.<target ID>": id is 32 random hex digits
// naming the pending version, seq counts the appends it has taken (so the
// handle changes on every call, as AIStore's does), and the target ID says
// whose it is. Clients treat it as opaque. A handle is accepted only when
// it is well formed, names this target, names a pending version of this
// very bucket and object, and carries its current seq: anything else (a
// forged, stale, expired or another object's handle) is 400, so a handle
// never reaches another object's data. A handle in use by a request that
// is still sending its body is 409 (busy).
//
// A pending version nobody appends to or flushes for Config.UploadTimeout
// is dropped and its work file removed (the janitor, run by Run); at most
// maxAppends are pending at once (each holds an open file). Pending
// versions do not survive a restart (their work files are removed when the
// store opens), nor do they move with a rebalance: once another target owns
// the object, the next append goes there and its handle is refused (400,
// "belongs to target ..."); the client starts again.

// maxAppends bounds the pending appends of one target.
const maxAppends = 1024

// pendingAppend is one pending new version of an object.
type pendingAppend struct {
	mu   sync.Mutex // held while a request uses it
	id   string
	bck  cluster.Bucket
	obj  string
	seq  uint64
	w    *fs.Writer
	gone bool         // flushed, failed or expired (under mu)
	used atomic.Int64 // unix ns of the last use
}

// appendTable holds a target's pending appends.
type appendTable struct {
	mu sync.Mutex
	m  map[string]*pendingAppend
}

func (a *appendTable) add(p *pendingAppend) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) >= maxAppends {
		return cluster.Errorf(cluster.ErrBusy, "%d appends are pending on this target (flush some)", maxAppends)
	}
	if a.m == nil {
		a.m = map[string]*pendingAppend{}
	}
	a.m[p.id] = p
	return nil
}

func (a *appendTable) get(id string) *pendingAppend {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[id]
}

func (a *appendTable) remove(p *pendingAppend) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m[p.id] == p {
		delete(a.m, p.id)
	}
}

// expire drops the pending appends unused for longer than idle (all of
// them with idle < 0) and returns how many; one in use is left alone.
func (a *appendTable) expire(idle time.Duration) int {
	a.mu.Lock()
	all := make([]*pendingAppend, 0, len(a.m))
	for _, p := range a.m {
		all = append(all, p)
	}
	a.mu.Unlock()
	n := 0
	for _, p := range all {
		if idle >= 0 && time.Since(time.Unix(0, p.used.Load())) <= idle {
			continue
		}
		if !p.mu.TryLock() {
			continue // in use
		}
		if !p.gone {
			p.gone = true
			p.w.Abort()
			n++
		}
		p.mu.Unlock()
		a.remove(p)
	}
	return n
}

// handle returns p's current handle on target tid.
func (p *pendingAppend) handle(tid string) string {
	return p.id + "." + strconv.FormatUint(p.seq, 10) + "." + tid
}

// parseHandle splits a handle "<id>.<seq>.<target ID>", strictly: id is
// 32 lowercase hex digits, seq a decimal without leading zeros, the target
// ID non-empty (it may contain dots).
func parseHandle(h string) (id string, seq uint64, tid string, ok bool) {
	id, rest, ok1 := strings.Cut(h, ".")
	seqs, tid, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || tid == "" || len(id) != 32 || strings.ToLower(id) != id {
		return "", 0, "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", 0, "", false
	}
	seq, err := strconv.ParseUint(seqs, 10, 64)
	if err != nil || strconv.FormatUint(seq, 10) != seqs {
		return "", 0, "", false
	}
	return id, seq, tid, true
}

// acquire returns the pending append handle h names, locked, after the
// checks of the section doc; every refusal is cluster.ErrBadRequest
// (cluster.ErrBusy for one in use).
func (t *Target) acquire(h string, rt server.Route) (*pendingAppend, error) {
	bad := func(why string) error {
		return cluster.Errorf(cluster.ErrBadRequest, "invalid %s for %s/%s: %s", wire.QparamAppendHandle, rt.Bucket, rt.Object, why)
	}
	id, seq, tid, ok := parseHandle(h)
	if !ok {
		return nil, bad("malformed handle")
	}
	if tid != t.cfg.ID {
		return nil, bad("the handle belongs to target " + strconv.Quote(tid) + ", not " + t.cfg.ID + " (start again with an empty handle)")
	}
	p := t.apps.get(id)
	if p == nil {
		return nil, bad("no such pending append (flushed, expired or never made)")
	}
	if !p.mu.TryLock() {
		return nil, cluster.Errorf(cluster.ErrBusy, "append handle of %s/%s is in use by another request", rt.Bucket, rt.Object)
	}
	switch {
	case p.gone:
		p.mu.Unlock()
		return nil, bad("no such pending append (flushed, expired or never made)")
	case p.bck != rt.Bucket || p.obj != rt.Object:
		p.mu.Unlock()
		return nil, bad("the handle is another object's")
	case p.seq != seq:
		p.mu.Unlock()
		return nil, bad("stale handle (a later append returned a newer one)")
	}
	return p, nil
}

// requestChecksum returns the checksum headers of r.
func requestChecksum(r *http.Request) cluster.Checksum {
	return cluster.Checksum{Type: r.Header.Get(wire.HdrChecksumType), Value: r.Header.Get(wire.HdrChecksumValue)}
}

// appendObject serves PUT ?append_type=append|flush&append_handle=H.
func (t *Target) appendObject(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if err := server.CheckOperation(r, wire.QparamAppendType, wire.QparamAppendHandle); err != nil {
		return err
	}
	q := r.URL.Query()
	typ, h := q.Get(wire.QparamAppendType), q.Get(wire.QparamAppendHandle)
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	skip, err := skipVerify(r)
	if err != nil {
		return err
	}
	switch typ {
	case wire.AppendOp:
		ctx, span := t.opSpan(r.Context(), "target.append", rt, attribute.Bool("ais.new_handle", h == ""))
		defer func() { endOp(span, err) }()
		body := newStallReader(w, r.Body, t.cfg.StallTimeout)
		expect := requestChecksum(r)
		if skip {
			expect = cluster.Checksum{}
		}
		var p *pendingAppend
		if h == "" {
			p, err = t.startAppend(ctx, rt, props)
			if err != nil {
				return err
			}
			defer p.mu.Unlock()
			if _, err := p.w.Append(ctx, body, r.ContentLength, expect); err != nil {
				p.gone = true
				p.w.Abort()
				t.apps.remove(p)
				return err
			}
		} else {
			if p, err = t.acquire(h, rt); err != nil {
				return err
			}
			defer p.mu.Unlock()
			if _, err := p.w.Append(ctx, body, r.ContentLength, expect); err != nil {
				return err // rolled back: the same handle goes on
			}
		}
		p.seq++
		p.used.Store(time.Now().UnixNano())
		span.SetAttributes(attribute.Int64("ais.size", p.w.Size()))
		w.Header().Set(wire.HdrAppendHandle, p.handle(t.cfg.ID))
		w.WriteHeader(http.StatusOK)
		return nil
	case wire.FlushOp:
		if h == "" {
			return cluster.Errorf(cluster.ErrBadRequest, "%s=%s needs the %s of the last append", wire.QparamAppendType, wire.FlushOp, wire.QparamAppendHandle)
		}
		if server.HasBody(r) {
			return cluster.Errorf(cluster.ErrBadRequest, "%s=%s takes no body", wire.QparamAppendType, wire.FlushOp)
		}
		ctx, span := t.opSpan(r.Context(), "target.flush", rt)
		defer func() { endOp(span, err) }()
		p, err := t.acquire(h, rt)
		if err != nil {
			return err
		}
		defer p.mu.Unlock()
		p.gone = true
		t.apps.remove(p)
		attrs, err := p.w.Commit(ctx, fs.CommitOptions{Checksum: requestChecksum(r), SkipVerify: skip})
		if err != nil {
			return err
		}
		setAttrHeaders(w.Header(), &attrs)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	return cluster.Errorf(cluster.ErrBadRequest, "%s=%q: expected %q or %q", wire.QparamAppendType, typ, wire.AppendOp, wire.FlushOp)
}

// startAppend makes a pending append of rt's object, locked, starting from
// the object's current content when it exists.
func (t *Target) startAppend(ctx context.Context, rt server.Route, props *cluster.BucketProps) (*pendingAppend, error) {
	fw, err := t.store.NewWriter(ctx, rt.Bucket, rt.Object, fs.WriterOptions{ChecksumType: props.Checksum.Type, MaxSize: t.cfg.MaxObjectSize})
	if err != nil {
		return nil, err
	}
	obj, err := t.store.Open(ctx, rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
	switch {
	case errors.Is(err, cluster.ErrNotFound):
		if err := t.readMiss(err); !errors.Is(err, cluster.ErrNotFound) {
			fw.Abort()
			return nil, err // it may be on its way here: do not start from nothing
		}
	case err != nil:
		fw.Abort()
		return nil, err
	default:
		_, err := fw.Append(ctx, obj, obj.Attrs.Size, cluster.Checksum{})
		obj.Close()
		if err != nil {
			fw.Abort()
			return nil, err
		}
	}
	var id [16]byte
	rand.Read(id[:])
	p := &pendingAppend{id: hex.EncodeToString(id[:]), bck: rt.Bucket, obj: rt.Object, w: fw}
	p.used.Store(time.Now().UnixNano())
	p.mu.Lock()
	if err := t.apps.add(p); err != nil {
		p.mu.Unlock()
		fw.Abort()
		return nil, err
	}
	return p, nil
}

// skipVerify parses skip_vc.
func skipVerify(r *http.Request) (bool, error) {
	v := r.URL.Query().Get(wire.QparamSkipVC)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, cluster.Errorf(cluster.ErrBadRequest, "malformed %s=%q", wire.QparamSkipVC, v)
	}
	return b, nil
}
