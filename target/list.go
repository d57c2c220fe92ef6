package target

import (
	"context"
	"strings"
	"time"

	"miniais/api/wire"
	"miniais/cluster"
	"miniais/fs"
)

// lsHonoured are the listing flags a target honours (those that change
// nothing for ais:// buckets among them); any other bit is refused with 501.
const lsHonoured = wire.LsCached | wire.LsMissing | wire.LsNameOnly | wire.LsNameSize | wire.LsBckPresent |
	wire.LsDontHeadRem | wire.LsDontAddRem | wire.LsNoRecursion | wire.LsNoDirs | wire.LsArchive

// lsFlagNames name the refused bits in errors.
var lsFlagNames = map[uint64]string{
	wire.LsDeleted: "deleted", wire.LsNotCached: "not-cached", wire.LsInternal: "internal",
	wire.LsDiff: "diff", wire.LsIsS3: "s3", wire.LsInventory: "inventory",
}

// Listing properties (AIStore's names); "name" is always listed.
var lsProps = map[string]bool{
	"name": true, "size": true, "checksum": true, "atime": true, "version": true, "cached": true,
	"status": true, "copies": true, "custom": true, "location": true,
}

// listProps is what a listing returns per entry.
type listProps struct {
	namesOnly                                                bool
	size, checksum, atime, version, copies, custom, location bool
}

// parseListing checks a list message's props and flags as AIStore reads
// them: props "" means "name,size,cached", flag 16 or props "name" names
// only, flag 32 names and sizes. An unknown property or a flag miniais does
// not honour is refused with 501 before anything is read.
func parseListing(lso *wire.ListObjsMsg) (listProps, error) {
	var lp listProps
	if bad := lso.Flags &^ lsHonoured; bad != 0 {
		for bit := uint64(1); bit <= bad; bit <<= 1 {
			if bad&bit != 0 {
				name := lsFlagNames[bit]
				if name == "" {
					name = "unknown"
				}
				return lp, cluster.Errorf(cluster.ErrNotImplemented, "listing flag %d (%s) is not implemented", bit, name)
			}
		}
	}
	if lso.Flags&wire.LsArchive != 0 && lso.Flags&wire.LsNoRecursion != 0 {
		return lp, cluster.Errorf(cluster.ErrNotImplemented, "listing flags archive (8) and no-recursion (2048) together are not implemented")
	}
	if lso.Target != "" {
		return lp, cluster.Errorf(cluster.ErrNotImplemented, "listing pinned to one target (target=%q) is not implemented", lso.Target)
	}
	if lso.TimeFormat != "" {
		return lp, cluster.Errorf(cluster.ErrNotImplemented, "listing time_format %q is not implemented", lso.TimeFormat)
	}
	props := lso.Props
	switch {
	case lso.Flags&wire.LsNameOnly != 0 || props == "name":
		lp.namesOnly = true
		return lp, nil
	case lso.Flags&wire.LsNameSize != 0 || props == "":
		lp.size = true
		return lp, nil
	}
	for p := range strings.SplitSeq(props, ",") {
		p = strings.TrimSpace(p)
		if !lsProps[p] {
			return lp, cluster.Errorf(cluster.ErrNotImplemented, "listing property %q is not implemented", p)
		}
		switch p {
		case "size":
			lp.size = true
		case "checksum":
			lp.checksum = true
		case "atime":
			lp.atime = true
		case "version":
			lp.version = true
		case "copies":
			lp.copies = true
		case "custom":
			lp.custom = true
		case "location":
			lp.location = true
		}
	}
	return lp, nil
}

// listPage lists one page of bck's objects on this target. The page's Flags
// is 1 while the rebalance window is open (the result may be incomplete, as
// AIStore marks it).
func (t *Target) listPage(ctx context.Context, bck cluster.Bucket, lso wire.ListObjsMsg) (*wire.LsoResult, error) {
	if err := bck.Validate(); err != nil {
		return nil, err
	}
	lp, err := parseListing(&lso)
	if err != nil {
		return nil, err
	}
	if t.bmd.Load().Get(bck) == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "bucket %s does not exist", bck)
	}
	token := lso.ContinuationToken
	if token == "" {
		token = lso.StartAfter
	}
	entries, next, err := t.store.List(ctx, bck, fs.ListOptions{
		Prefix: lso.Prefix, Token: token, PageSize: int(lso.PageSize),
		NamesOnly: lp.namesOnly, NoRecursion: lso.Flags&wire.LsNoRecursion != 0, NoDirs: lso.Flags&wire.LsNoDirs != 0,
	})
	if err != nil {
		return nil, err
	}
	res := &wire.LsoResult{ContinuationToken: next, Entries: make([]*wire.LsoEntry, len(entries))}
	for i := range entries {
		res.Entries[i] = t.entry(&entries[i], lp)
	}
	if lso.Flags&wire.LsArchive != 0 {
		res.Entries, res.ContinuationToken = t.expandArchives(ctx, bck, &lso, token, res.Entries, next, int(lso.PageSize), lp)
	}
	if len(t.win.peers()) > 0 {
		res.Flags = 1
	}
	return res, nil
}

// atimeLayout is how listings show atime (AIStore's default, Go's RFC 822).
const atimeLayout = time.RFC822

func (t *Target) entry(a *fs.ObjectAttrs, lp listProps) *wire.LsoEntry {
	e := &wire.LsoEntry{Name: a.Name, Flags: wire.EntryPresent}
	if strings.HasSuffix(a.Name, "/") {
		e.Flags = wire.EntryIsDir
		return e
	}
	if lp.namesOnly {
		return e
	}
	if a.Parts > 0 {
		e.Flags |= wire.EntryChunked
	}
	if lp.size {
		e.Size = a.Size
	}
	if lp.checksum {
		e.Checksum = a.Checksum.Value
	}
	if lp.atime {
		e.Atime = a.Atime.UTC().Format(atimeLayout)
	}
	if lp.version {
		e.Version = a.Version
	}
	if lp.copies {
		e.Copies = int16(max(a.Copies, 1)) // the mountpaths List found it on
	}
	if lp.location {
		e.Location = location(t.cfg.ID, a.Mountpath)
	}
	if lp.custom && len(a.Custom) > 0 {
		var b strings.Builder
		for k, v := range a.Custom {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k + "=" + v)
		}
		e.Custom = b.String()
	}
	return e
}
