package fs

import (
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"miniais/cluster"
)

// DefaultMetaCacheSize is the default cap of the metadata cache, in bytes
// (Config.MetaCacheSize): some 30,000 objects of short names.
const DefaultMetaCacheSize = 8 << 20

// metaCache keeps the decoded metadata of recently read objects in memory,
// so that Open and Head do not read an xattr (or a sidecar) per request. It
// is keyed by the object file's path and every entry carries the identity
// of the file it was read from (device, inode, size, ctime): a hit needs a
// file that fstat/lstat shows unchanged. Every write path of the Store also
// drops the entries it affects while it holds the object's stripe lock
// (commit, remove, rename; a destroyed bucket or a failed validation drops
// more), and entries are only added under the stripe lock by a reader that
// read the metadata itself, so an entry never outlives the version it
// describes. The identity check is a second line against what the Store
// does not see (a file changed by hand).
//
// The cache holds at most its cap in bytes (as estimated by entrySize);
// past it, arbitrary entries go. It is safe for concurrent use.
type metaCache struct {
	shards [metaShards]metaShard
	cap    int64 // per shard; 0 disables the cache
	// gen counts clears: an add of metadata read before a clear (of a
	// destroyed bucket, which takes no stripe locks) is refused.
	gen atomic.Uint64
}

const metaShards = 16

type metaShard struct {
	mu    sync.Mutex
	m     map[string]metaEntry
	bytes int64
}

type metaEntry struct {
	id    fileID
	attrs ObjectAttrs // Bucket, Name and Mountpath are the caller's
}

// fileID is what identifies one version of an object file: a rename of a
// new work file over it changes the inode, a metadata write the ctime.
type fileID struct {
	dev, ino  uint64
	size      int64
	ctimeSec  int64
	ctimeNsec int64
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino, size: st.Size, ctimeSec: st.Ctim.Sec, ctimeNsec: st.Ctim.Nsec}, true
}

// newMetaCache returns a cache of at most size bytes; size 0 means
// DefaultMetaCacheSize, a negative size no cache.
func newMetaCache(size int64) *metaCache {
	if size == 0 {
		size = DefaultMetaCacheSize
	}
	c := &metaCache{}
	if size > 0 {
		c.cap = max(size/metaShards, 1)
	}
	for i := range c.shards {
		c.shards[i].m = map[string]metaEntry{}
	}
	return c
}

func (c *metaCache) shard(path string) *metaShard {
	var h uint32 = 2166136261 // FNV-1a
	for i := 0; i < len(path); i++ {
		h = (h ^ uint32(path[i])) * 16777619
	}
	return &c.shards[h%metaShards]
}

// get returns the cached attributes of the file at path if fi shows the
// very file they were read from. The Custom map is the caller's own copy.
func (c *metaCache) get(path string, fi os.FileInfo, a *ObjectAttrs) bool {
	if c.cap == 0 {
		return false
	}
	id, ok := idOf(fi)
	if !ok {
		return false
	}
	sh := c.shard(path)
	sh.mu.Lock()
	e, ok := sh.m[path]
	sh.mu.Unlock()
	if !ok || e.id != id {
		return false
	}
	bck, name, mp := a.Bucket, a.Name, a.Mountpath
	*a = e.attrs
	a.Bucket, a.Name, a.Mountpath = bck, name, mp
	if a.Custom != nil {
		a.Custom = maps.Clone(a.Custom)
	}
	return true
}

// generation returns the current generation, to pass to add.
func (c *metaCache) generation() uint64 { return c.gen.Load() }

// add caches a, read from the file at path that fi describes, unless the
// cache was cleared since generation gen (taken before the file was
// opened). The caller holds the object's stripe lock (read or write).
func (c *metaCache) add(path string, fi os.FileInfo, a *ObjectAttrs, gen uint64) {
	if c.cap == 0 {
		return
	}
	id, ok := idOf(fi)
	if !ok {
		return
	}
	e := metaEntry{id: id, attrs: *a}
	e.attrs.Bucket, e.attrs.Name, e.attrs.Mountpath = cluster.Bucket{}, "", ""
	e.attrs.Custom = maps.Clone(a.Custom)
	size := entrySize(path, &e.attrs)
	sh := c.shard(path)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if old, ok := sh.m[path]; ok {
		sh.bytes -= entrySize(path, &old.attrs)
	}
	sh.m[path] = e
	sh.bytes += size
	for k, v := range sh.m { // random order: evicts arbitrary entries
		if sh.bytes <= c.cap {
			break
		}
		delete(sh.m, k)
		sh.bytes -= entrySize(k, &v.attrs)
	}
}

// drop forgets the file at path. The caller holds the object's stripe
// write lock and drops before it releases it.
func (c *metaCache) drop(path string) {
	if c.cap == 0 {
		return
	}
	sh := c.shard(path)
	sh.mu.Lock()
	if old, ok := sh.m[path]; ok {
		sh.bytes -= entrySize(path, &old.attrs)
		delete(sh.m, path)
	}
	sh.mu.Unlock()
}

// clear forgets everything (a destroyed bucket).
func (c *metaCache) clear() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.bytes = 0
		sh.mu.Unlock()
	}
}

// len returns the number of entries and their estimated bytes.
func (c *metaCache) len() (n int, bytes int64) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		bytes += sh.bytes
		sh.mu.Unlock()
	}
	return n, bytes
}

// entryOverhead estimates the bytes of one entry beyond its strings: the
// entry and map slot, the key and string headers (measured: 329 bytes of
// heap per entry of a 70-byte path and an xxhash2 checksum).
const entryOverhead = 240

func entrySize(path string, a *ObjectAttrs) int64 {
	n := entryOverhead + len(path) + len(a.Checksum.Type) + len(a.Checksum.Value) + len(a.Version)
	for k, v := range a.Custom {
		n += len(k) + len(v) + 64
	}
	return int64(n)
}
