package fs

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"miniais/cluster"
)

// DefaultPageSize is the page size of List when ListOptions.PageSize is 0.
const DefaultPageSize = 1000

// ListOptions qualify a List.
type ListOptions struct {
	// Prefix restricts the listing to names that start with it.
	Prefix string
	// Token continues a listing: only names greater than it are returned.
	// It is the next value returned by the previous page ("" to start).
	Token string
	// PageSize is the most entries returned; 0 means DefaultPageSize.
	PageSize int
	// NamesOnly returns entries with only Name and Mountpath set: the
	// listing reads no object's metadata.
	NamesOnly bool
	// NoRecursion lists only the names at the level of Prefix: each
	// directory below it comes back once as an entry whose Name ends in '/'
	// (a virtual directory: no other attribute is set), and nothing below it
	// is read. Object names never end in '/'.
	NoRecursion bool
	// NoDirs, with NoRecursion, leaves the virtual directories out.
	NoDirs bool
}

// List returns the objects of bck whose names start with opts.Prefix and are
// greater than opts.Token, sorted by name across all mountpaths, at most
// opts.PageSize of them. next is the token of the following page, "" when
// this page is the last. An object on several mountpaths is listed once, with
// the attributes of its HRW copy and the number of mountpaths in Copies. Each page walks the bucket's directories
// (pruning those that cannot hold names of the page), so a page costs time in
// proportion to the bucket, and memory in proportion to the page size. A
// missing bucket is an error wrapping cluster.ErrNotFound.
func (s *Store) List(ctx context.Context, bck cluster.Bucket, opts ListOptions) (entries []ObjectAttrs, next string, err error) {
	ctx, span := s.start(ctx, "fs.List", bck, "")
	defer func() { endSpan(span, err) }()
	if err := bck.Validate(); err != nil {
		return nil, "", err
	}
	if opts.PageSize < 0 {
		return nil, "", cluster.Errorf(cluster.ErrBadRequest, "negative page size %d", opts.PageSize)
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultPageSize
	}
	mps := s.mps.List()
	if len(mps) == 0 {
		return nil, "", errNoMountpaths()
	}
	if !s.BucketExists(bck) {
		return nil, "", cluster.Errorf(cluster.ErrNotFound, "bucket %s", bck)
	}
	c := &collector{s: s, bck: bck, prefix: opts.Prefix, token: opts.Token, keep: opts.PageSize + 1,
		noRecursion: opts.NoRecursion, noDirs: opts.NoDirs}
	for _, mp := range mps {
		if err := c.walk(ctx, mp, objectsDir(mp, bck), ""); err != nil {
			return nil, "", err
		}
	}
	c.compact()
	items := c.items
	if len(items) > opts.PageSize {
		items = items[:opts.PageSize]
		next = items[len(items)-1].name
	}
	entries = make([]ObjectAttrs, 0, len(items))
	for _, it := range items {
		if it.dir || opts.NamesOnly {
			entries = append(entries, ObjectAttrs{Bucket: bck, Name: it.name, Mountpath: it.mp.Path, Copies: it.copies})
			continue
		}
		lk := s.stripe(bck.Uname(it.name))
		lk.RLock()
		a, err := s.head(it.mp, bck, it.name)
		lk.RUnlock()
		if isNotExist(err) {
			continue // deleted since the walk
		}
		if err != nil {
			return nil, "", err
		}
		a.Copies = it.copies
		entries = append(entries, a)
	}
	return entries, next, nil
}

type listItem struct {
	name   string
	mp     *Mountpath
	dir    bool // a virtual directory (NoRecursion); name ends in '/'
	copies int  // the mountpaths it was found on (summed by compact)
}

// collector gathers the smallest keep names that match a listing.
type collector struct {
	s             *Store
	bck           cluster.Bucket
	prefix, token string
	keep          int
	noRecursion   bool
	noDirs        bool
	items         []listItem
	full          bool   // items holds keep distinct names, none above max
	max           string // valid when full
}

// walk adds the matching files under dir, whose names start with rel.
func (c *collector) walk(ctx context.Context, mp *Mountpath, dir, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return nil // removed since we saw it
		}
		return fmt.Errorf("fs: list %s: %w", c.bck, err)
	}
	for _, e := range entries {
		name := e.Name()
		if rel != "" {
			name = rel + "/" + name
		}
		switch {
		case e.IsDir() && c.noRecursion && strings.HasPrefix(name+"/", c.prefix) && len(name)+1 > len(c.prefix):
			// Below the prefix: a virtual directory, not walked.
			if d := name + "/"; !c.noDirs && c.wantEntry(d) && cluster.ValidateObjectName(name) == nil {
				c.items = append(c.items, listItem{name: d, mp: mp, dir: true, copies: 1})
				if len(c.items) >= 2*c.keep {
					c.compact()
				}
			}
		case e.IsDir():
			if c.wantDir(name) {
				if err := c.walk(ctx, mp, dir+"/"+e.Name(), name); err != nil {
					return err
				}
			}
		case e.Type().IsRegular() && c.wantName(name):
			c.items = append(c.items, listItem{name: name, mp: mp, copies: 1})
			if len(c.items) >= 2*c.keep {
				c.compact()
			}
		}
	}
	return nil
}

// wantDir reports whether directory d can hold names of the listing: they all
// start with d+"/", so they all sort below d+"0" ('0' follows '/').
func (c *collector) wantDir(d string) bool {
	p := d + "/"
	switch {
	case !strings.HasPrefix(p, c.prefix) && !strings.HasPrefix(c.prefix, p):
		return false
	case c.token != "" && c.token >= d+"0":
		return false
	case c.full && p >= c.max:
		return false
	}
	return true
}

func (c *collector) wantName(n string) bool {
	return c.wantEntry(n) && cluster.ValidateObjectName(n) == nil
}

// wantEntry reports whether n falls in the listing's page.
func (c *collector) wantEntry(n string) bool {
	return strings.HasPrefix(n, c.prefix) && n > c.token && (!c.full || n <= c.max)
}

// compact sorts and de-duplicates the items (preferring the HRW copy) and
// keeps the smallest keep names.
func (c *collector) compact() {
	slices.SortFunc(c.items, func(a, b listItem) int { return strings.Compare(a.name, b.name) })
	out := c.items[:0]
	for i := 0; i < len(c.items); {
		j := i + 1
		for j < len(c.items) && c.items[j].name == c.items[i].name {
			j++
		}
		best := c.items[i]
		if j-i > 1 {
			best.copies = 0
			for _, it := range c.items[i:j] {
				best.copies += it.copies
			}
			if hrw := c.s.mps.Select(c.bck.Uname(best.name)); hrw != nil {
				for _, it := range c.items[i:j] {
					if it.mp.Path == hrw.Path {
						best.mp = it.mp
					}
				}
			}
		}
		out = append(out, best)
		i = j
	}
	c.items = out
	if len(c.items) >= c.keep {
		c.items = c.items[:c.keep]
		c.full = true
		c.max = c.items[len(c.items)-1].name
	}
}
