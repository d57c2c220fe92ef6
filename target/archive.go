package target

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/archive"
	"miniais/cluster"
	"miniais/fs"
)

// # TAR archives
//
// PUT /v1/objects/B/A.tar?archpath=P adds the body as file P of archive
// A.tar; Ais-Pine says what to do with an existing archive, as AIStore's
// target does (ais/tgtobj.go, putApndArch): absent (or 0), the PUT makes a
// new archive holding just P (replacing any object A.tar, as a PUT would);
// 1 appends to the archive, which must exist (404 otherwise); 2 appends if
// it exists and creates it otherwise. An append writes a new version of
// the object (the existing bytes up to the end-of-archive marker, then the
// member and a new marker: package archive) and commits it like any PUT,
// so readers see the old archive or the new one. Appends to one archive
// are serialized on its owner, so none is lost to a concurrent one.
//
// GET (and HEAD) ?archpath=P serves one member, with byte ranges, from its
// contiguous range inside the archive; the archive's checksum headers are
// not sent (they describe the archive, not the member). A listing with
// flag 8 (LsArchive) adds, after each TAR archive it lists (flag 512), its
// files as "A.tar/P" entries (flag 128).
//
// Only TAR is implemented; the other formats AIStore knows (.tgz, .zip,
// .tar.lz4) are refused with 501, and so are archregx and archmode.

// archLock returns the lock of archive uname on this target.
func (t *Target) archLock(uname string) *sync.Mutex {
	return &t.archMu[cluster.Digest(uname)%uint64(len(t.archMu))]
}

// memberName returns the member an archpath names: relative to the
// archive (AIStore strips "A.tar/" in front), checked.
func memberName(rt server.Route, archpath string) (string, error) {
	name := strings.TrimPrefix(archpath, rt.Object+"/")
	if archpath == "" {
		return "", cluster.Errorf(cluster.ErrBadRequest, "empty %s", wire.QparamArchpath)
	}
	return name, archive.ValidateMemberName(name)
}

// putArchive serves PUT ?archpath=P[&archmime=M] (header Ais-Pine).
func (t *Target) putArchive(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if err := server.CheckOperation(r, wire.QparamArchpath, wire.QparamArchmime, wire.HdrPine); err != nil {
		return err
	}
	q := r.URL.Query()
	if !q.Has(wire.QparamArchpath) {
		return cluster.Errorf(cluster.ErrBadRequest, "%s applies to an archive PUT, with %s", wire.QparamArchmime, wire.QparamArchpath)
	}
	if _, err := archive.FormatOf(rt.Object, q.Get(wire.QparamArchmime)); err != nil {
		return err
	}
	member, err := memberName(rt, q.Get(wire.QparamArchpath))
	if err != nil {
		return err
	}
	pine := r.Header.Get(wire.HdrPine)
	switch pine {
	case "", "0", wire.PineAppend, wire.PineAppendIfExists:
	default:
		return cluster.Errorf(cluster.ErrBadRequest, "%s: %q (expected %s or %s)", wire.HdrPine, pine, wire.PineAppend, wire.PineAppendIfExists)
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.archive.put", rt, attribute.String("ais.archpath", member), attribute.String("ais.pine", pine))
	defer func() { endOp(span, err) }()

	var body io.Reader = newStallReader(w, r.Body, t.cfg.StallTimeout)
	size := r.ContentLength
	if size < 0 {
		// A tar header holds the member's size: stage a body sent
		// without one.
		f, n, err := t.stage(ctx, rt, body)
		if err != nil {
			return err
		}
		defer func() { f.Close(); os.Remove(f.Name()) }()
		body, size = io.NewSectionReader(f, 0, n), n
	}
	lk := t.archLock(rt.Bucket.Uname(rt.Object))
	lk.Lock()
	defer lk.Unlock()
	var old *fs.Object
	if pine == wire.PineAppend || pine == wire.PineAppendIfExists {
		obj, err := t.store.Open(ctx, rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
		switch {
		case errors.Is(err, cluster.ErrNotFound):
			if err := t.readMiss(err); pine == wire.PineAppend || !errors.Is(err, cluster.ErrNotFound) {
				return err
			}
		case err != nil:
			return err
		default:
			defer obj.Close()
			old = obj
		}
	}
	fw, err := t.store.NewWriter(ctx, rt.Bucket, rt.Object, fs.WriterOptions{ChecksumType: props.Checksum.Type, MaxSize: t.cfg.MaxObjectSize})
	if err != nil {
		return err
	}
	defer fw.Abort() // a no-op after Commit
	if old != nil {
		end, err := archive.End(old.File(), old.Attrs.Size)
		if err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "cannot append to %s/%s: %v", rt.Bucket, rt.Object, err)
		}
		if _, err := fw.Append(ctx, io.NewSectionReader(old.File(), 0, end), end, cluster.Checksum{}); err != nil {
			return err
		}
		span.SetAttributes(attribute.Bool("ais.appended", true))
	}
	if err := archive.WriteMember(fw, member, size, time.Now(), body); err != nil {
		return err
	}
	attrs, err := fw.Commit(ctx, fs.CommitOptions{})
	if err != nil {
		return err
	}
	setAttrHeaders(w.Header(), &attrs)
	w.WriteHeader(http.StatusOK)
	return nil
}

// stage copies body into a scratch work file (at most MaxObjectSize
// bytes) and returns it with its length.
func (t *Target) stage(ctx context.Context, rt server.Route, body io.Reader) (*os.File, int64, error) {
	f, err := t.store.Scratch(rt.Bucket, rt.Object)
	if err != nil {
		return nil, 0, err
	}
	limit := int64(fs.MaxPartSize) * fs.MaxParts
	if t.cfg.MaxObjectSize > 0 {
		limit = t.cfg.MaxObjectSize
	}
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	if err == nil && n > limit {
		err = cluster.Errorf(cluster.ErrTooLarge, "archive member exceeds the limit of %d bytes", limit)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// getArchived serves GET and HEAD ?archpath=P: one member of the archive.
func (t *Target) getArchived(w http.ResponseWriter, r *http.Request, rt server.Route) (err error) {
	if err := server.CheckOperation(r, wire.QparamArchpath); err != nil {
		return err
	}
	member, err := memberName(rt, r.URL.Query().Get(wire.QparamArchpath))
	if err != nil {
		return err
	}
	if _, err := archive.FormatOf(rt.Object, ""); err != nil {
		return err
	}
	props, err := t.bucketProps(rt.Bucket)
	if err != nil {
		return err
	}
	ctx, span := t.opSpan(r.Context(), "target.archive.get", rt, attribute.String("ais.archpath", member))
	defer func() { endOp(span, err) }()
	obj, err := t.store.Open(ctx, rt.Bucket, rt.Object, fs.GetOptions{Validate: props.Checksum.ValidateWarmGet})
	if err != nil {
		return t.readMiss(err) // never a neighbour's whole archive in place of a member
	}
	defer obj.Close()
	m, err := archive.Find(obj.File(), obj.Attrs.Size, member)
	if err != nil {
		return err
	}
	span.SetAttributes(attribute.Int64("ais.size", m.Size))
	http.NewResponseController(w).SetWriteDeadline(writeDeadline(m.Size, t.cfg.StallTimeout))
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set(wire.HdrName, rt.Object+"/"+member)
	h.Set(wire.HdrPresent, "true")
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(obj.File(), m.Offset, m.Size))
	return nil
}

// expandArchives adds the files of the TAR archives of a listing page
// (LsArchive) to its entries, keeping the page sorted and paged:
//
//   - entries is this target's page from fs (converted), next its
//     continuation token (the page's last object name, or "" at the end);
//   - a member "A.tar/P" sorts after "A.tar" but maybe after other objects
//     too ("A.tar.bak" < "A.tar/P"), so the members of an archive whose
//     name is a prefix of the token or of the listing prefix, and which
//     therefore came on an earlier page, may still be due: those are
//     added as well, each only when its name is past the token;
//   - when fs has more, no member past the page's last object is added (it
//     comes on a later page, after the objects before it);
//   - the result is cut to pageSize, the token then being its last name.
//
// An object named .tar that is not a TAR archive is listed as a plain
// object.
func (t *Target) expandArchives(ctx context.Context, bck cluster.Bucket, lso *wire.ListObjsMsg, token string, entries []*wire.LsoEntry,
	next string, pageSize int, lp listProps) ([]*wire.LsoEntry, string) {
	seen := map[string]bool{}
	var members []*wire.LsoEntry
	add := func(archName string, e *wire.LsoEntry) {
		if seen[archName] {
			return
		}
		seen[archName] = true
		list, ok := t.archiveMembers(ctx, bck, archName)
		if !ok {
			return
		}
		if e != nil {
			e.Flags |= wire.EntryIsArchive
		}
		for _, m := range list {
			name := archName + "/" + m.Name
			if name <= token || !strings.HasPrefix(name, lso.Prefix) || (next != "" && name > next) {
				continue
			}
			me := &wire.LsoEntry{Name: name, Flags: wire.EntryPresent | wire.EntryInArch}
			if lp.size {
				me.Size = m.Size
			}
			members = append(members, me)
		}
	}
	for _, e := range entries {
		if archive.IsTar(e.Name) && e.Flags&wire.EntryIsDir == 0 {
			add(e.Name, e)
		}
	}
	for _, s := range []string{token, lso.Prefix} {
		for i := len(".tar"); i <= len(s); i++ {
			if archive.IsTar(s[:i]) && (i == len(s) || s[i] == '/' || s[i] < '/') {
				add(s[:i], nil)
			}
		}
	}
	if len(members) == 0 {
		return entries, next
	}
	all := append(entries, members...)
	slices.SortFunc(all, func(a, b *wire.LsoEntry) int { return cmp.Compare(a.Name, b.Name) })
	if pageSize <= 0 {
		pageSize = fs.DefaultPageSize
	}
	if len(all) > pageSize {
		all = all[:pageSize]
		next = all[len(all)-1].Name
	}
	return all, next
}

// archiveMembers lists the files of archive name of bck on this target;
// ok is false when there is no such object or it is not a TAR archive.
func (t *Target) archiveMembers(ctx context.Context, bck cluster.Bucket, name string) ([]archive.Member, bool) {
	obj, err := t.store.Open(ctx, bck, name, fs.GetOptions{})
	if err != nil {
		return nil, false
	}
	defer obj.Close()
	list, err := archive.List(obj.File(), obj.Attrs.Size)
	if err != nil {
		t.log.DebugContext(ctx, "listing: not a TAR archive", "bucket", bck.String(), "object", name, "err", err)
		return nil, false
	}
	return list, true
}
