package target

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"miniais/cluster"
	"miniais/internal/atomicfile"
)

// # Bucket metadata on a target
//
// A target applies every newer bucket metadata version it is sent (a push,
// a transaction's commit, the reply to its join) by making its disks match
// it, then persisting it. It may have missed any number of versions (it
// was down, or cut off): the proxy brings it up to date before it is back
// in the cluster map (proxy handleKeepalive), so the comparison is always
// between what this target has and the whole new version, never one step:
//
//   - a bucket the new version does not have is destroyed, whether this
//     target's metadata names it or only its disks hold it;
//   - a bucket it has under a bucket ID other than the one this target
//     knows was destroyed and created again while this target was away:
//     the old content is destroyed before the new, empty bucket is made;
//   - a bucket it has that this target lacks is created;
//   - properties (and renames, which are a create and a destroy) come
//     with the new version as a whole.
//
// Each bucket's directories record its bucket ID (fs.Store.CreateBucket),
// so a target whose persisted metadata is lost or older than its disks
// still tells: a bucket the disks hold under another ID is destroyed
// before the new one is made. A bucket directory without a recorded ID
// (made before IDs were recorded) that the new version names is kept, and
// gets the ID.

// applyBMD installs bmd if it is newer than the current bucket metadata,
// first making the disks match it (see above), and persists it. If a
// bucket cannot be destroyed, nothing is installed and the error is
// returned: the proxy's push fails and is retried with the next keepalive.
func (t *Target) applyBMD(ctx context.Context, bmd *cluster.BMD) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.bmd.Load()
	if bmd.Version <= cur.Version && cur.Version != 0 {
		return nil
	}
	if bmd.Buckets == nil {
		bmd.Buckets = map[string]*cluster.BucketProps{}
	}
	onDisk, err := t.store.Buckets(ctx)
	if err != nil {
		return fmt.Errorf("apply bucket metadata v%d: %w", bmd.Version, err)
	}
	destroy := func(name, why string) error {
		t.log.InfoContext(ctx, "destroying a bucket: "+why, "bucket", name, "bmd_version", bmd.Version)
		if err := t.store.DestroyBucket(ctx, cluster.NewBucket(name)); err != nil && !errors.Is(err, cluster.ErrNotFound) {
			return fmt.Errorf("apply bucket metadata v%d: destroy bucket %s (%s): %w", bmd.Version, name, why, err)
		}
		return nil
	}
	for _, bck := range onDisk {
		if bmd.Buckets[bck.Name] == nil {
			why := "the bucket metadata no longer has it"
			if cur.Buckets[bck.Name] == nil {
				why = "only the disks had it"
			}
			if err := destroy(bck.Name, why); err != nil {
				return err
			}
		}
	}
	for name, props := range bmd.Buckets {
		bck := cluster.Bucket{Provider: props.Provider, Name: name}
		onDiskIDs, err := t.store.BucketIDs(bck)
		if err != nil {
			return fmt.Errorf("apply bucket metadata v%d: %w", bmd.Version, err)
		}
		switch old := cur.Buckets[name]; {
		case old != nil && old.BID != props.BID:
			if err := destroy(name, fmt.Sprintf("destroyed and created again (bucket ID %d, was %d)", props.BID, old.BID)); err != nil {
				return err
			}
		case len(onDiskIDs) > 1 || (len(onDiskIDs) == 1 && onDiskIDs[0] != props.BID):
			// This target's metadata did not know (lost, or older than
			// the disks), the disks do.
			if err := destroy(name, fmt.Sprintf("destroyed and created again (bucket ID %d, the disks hold %v)", props.BID, onDiskIDs)); err != nil {
				return err
			}
		}
		if err := t.store.CreateBucket(ctx, bck, props.BID); err != nil {
			return fmt.Errorf("apply bucket metadata v%d: %w", bmd.Version, err)
		}
	}
	b, err := bmd.MarshalMsg(nil)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(t.cfg.DataDir, bmdFile), b, 0o644); err != nil {
		return fmt.Errorf("persist bucket metadata: %w", err)
	}
	t.bmd.Store(bmd)
	t.log.InfoContext(ctx, "new bucket metadata", "version", bmd.Version, "buckets", len(bmd.Buckets))
	return nil
}
