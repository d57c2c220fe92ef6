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
// A bucket only the disks hold (not this target's persisted metadata) but
// the new version names is kept: without its ID on disk there is no
// telling whether it is the same bucket (a crash between making its
// directories and persisting the metadata) or an older one.

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
		if old := cur.Buckets[name]; old != nil && old.BID != props.BID {
			if err := destroy(name, fmt.Sprintf("destroyed and created again (bucket ID %d, was %d)", props.BID, old.BID)); err != nil {
				return err
			}
		}
		if err := t.store.CreateBucket(ctx, cluster.Bucket{Provider: props.Provider, Name: name}); err != nil {
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
