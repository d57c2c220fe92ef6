package fs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// CountObjects walks mp and returns how many objects it holds and their
// bytes (of every bucket; work files and metadata sidecars are not
// counted). It reads directories only, no object, but it visits every
// object: the caller should cache the result. A file that disappears
// during the walk is skipped; ctx stops the walk.
func (mp *Mountpath) CountObjects(ctx context.Context) (objects, bytes int64, err error) {
	buckets, err := os.ReadDir(filepath.Join(mp.Path, providerDir))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	for _, b := range buckets {
		if !b.IsDir() {
			continue
		}
		root := filepath.Join(mp.Path, providerDir, b.Name(), objectsDirName)
		werr := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil
				}
				return err
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil // removed meanwhile
			}
			objects++
			bytes += info.Size()
			return nil
		})
		if werr != nil && err == nil {
			err = werr
		}
	}
	return objects, bytes, err
}
