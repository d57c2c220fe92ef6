package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/checksum"
	"miniais/cluster"
)

func objectAttrs(bck cluster.Bucket, obj string, size int64) []attribute.KeyValue {
	kv := []attribute.KeyValue{attribute.String("ais.bucket", bck.String())}
	if obj != "" {
		kv = append(kv, attribute.String("ais.object", obj))
	}
	if size >= 0 {
		kv = append(kv, attribute.Int64("ais.size", size))
	}
	return kv
}

func putCommand(r *runner, c *ucli.Context) error {
	src, dst := c.Args().Get(0), c.Args().Get(1)
	bck, obj, err := api.ParseBucketURI(dst)
	if err != nil {
		return &usageError{err}
	}
	if c.Bool("append") {
		if c.Bool("recursive") {
			return usagef("--append and --recursive do not combine (use 'object concat')")
		}
		return putAppend(r, src, bck, obj)
	}
	if src == "-" {
		if obj == "" || strings.HasSuffix(obj, "/") {
			return usagef("put from stdin needs an object name: ais://BUCKET/OBJECT")
		}
		return putOne(r, r.env.Stdin, "(stdin)", -1, bck, obj)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if !c.Bool("recursive") {
			return usagef("%s is a directory (use --recursive to put every file below it)", src)
		}
		return putDir(r, src, bck, obj)
	}
	if obj == "" || strings.HasSuffix(obj, "/") {
		obj += filepath.Base(src)
	}
	if err := cluster.ValidateObjectName(obj); err != nil {
		return &usageError{err}
	}
	return putFile(r, src, bck, obj)
}

func putFile(r *runner, file string, bck cluster.Bucket, obj string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return putOne(r, f, file, -1, bck, obj)
	}
	var body io.Reader = f
	var bar *progress
	if fi.Size() > progressThreshold && r.env.IsTerminal(r.stderr) {
		bar = newProgress(r.stderr, "PUT "+obj, fi.Size())
		body = &progressFile{f: f, p: bar}
	}
	err = putOne(r, body, file, fi.Size(), bck, obj)
	if bar != nil {
		bar.finish()
	}
	return err
}

func putOne(r *runner, body io.Reader, from string, size int64, bck cluster.Bucket, obj string) error {
	r.setAttrs(objectAttrs(bck, obj, size)...)
	a, err := r.client.PutObject(r.ctx, bck, obj, body, api.PutOptions{Size: size})
	if err != nil {
		return err
	}
	if size < 0 {
		r.setAttrs(attribute.Int64("ais.size", a.Size))
	}
	fmt.Fprintf(r.stdout, "PUT %s => %s/%s (%s)\n", from, bck, obj, HumanSize(a.Size))
	return nil
}

// putDir puts every regular file below dir as prefix/<relative path>,
// stopping at the first error. Symbolic links and other special files are
// skipped with a warning.
func putDir(r *runner, dir string, bck cluster.Bucket, prefix string) error {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	var n, total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			fmt.Fprintf(r.stderr, "Warning: skipping %s (not a regular file)\n", p)
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		obj := prefix + filepath.ToSlash(rel)
		if err := cluster.ValidateObjectName(obj); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		a, err := r.client.PutObject(r.ctx, bck, obj, f, api.PutOptions{Size: -1})
		if err != nil {
			return err
		}
		n++
		total += a.Size
		fmt.Fprintf(r.stdout, "PUT %s => %s/%s (%s)\n", p, bck, obj, HumanSize(a.Size))
		return nil
	})
	r.setAttrs(attribute.Int64("ais.size", total))
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Put %d file(s), %s\n", n, HumanSize(total))
	return nil
}

func getCommand(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	opts := api.GetOptions{Offset: c.Int64("offset"), Length: c.Int64("length")}
	if opts.Offset < 0 || opts.Length < 0 {
		return usagef("--offset and --length must not be negative")
	}
	if member := c.String("archpath"); member != "" {
		return getArchived(r, c, bck, obj, member, opts)
	}
	out := c.Args().Get(1)
	if out == "" {
		out = path.Base(obj)
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	if out == "-" {
		a, err := r.client.GetObject(r.ctx, bck, obj, r.stdout, opts)
		if err != nil {
			return err
		}
		r.setAttrs(attribute.Int64("ais.size", a.Size))
		return nil
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		out = filepath.Join(out, path.Base(obj))
	}
	yes := c.Bool("yes")
	if _, err := os.Lstat(out); err == nil && !yes {
		return fmt.Errorf("%s already exists (use --yes to overwrite)", out)
	}
	return getToFile(r, bck, obj, out, yes, opts)
}

// getToFile reads the object into a temporary file beside out and renames
// it into place only when the whole object arrived (and, for a whole
// object, its checksum matched).
func getToFile(r *runner, bck cluster.Bucket, obj, out string, overwrite bool, opts api.GetOptions) error {
	rc, a, err := r.client.GetObjectReader(r.ctx, bck, obj, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	r.setAttrs(attribute.Int64("ais.size", a.Size))
	n, err := saveFile(out, overwrite, func(tmp io.Writer) (int64, error) {
		w := tmp
		var bar *progress
		want := a.Size - opts.Offset
		if opts.Length > 0 {
			want = opts.Length
		}
		if a.Size >= 0 && want > progressThreshold && r.env.IsTerminal(r.stderr) {
			bar = newProgress(r.stderr, "GET "+obj, want)
			w = &progressWriter{w: tmp, p: bar}
		}
		n, err := copyVerified(w, rc, a, opts)
		if bar != nil {
			bar.finish()
		}
		if err != nil {
			return n, fmt.Errorf("GET %s/%s: %w", bck, obj, err)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "GET %s/%s => %s (%s)\n", bck, obj, out, HumanSize(n))
	return nil
}

// saveFile writes a file at out through fill, into a temporary file beside
// it that is moved into place (place) only when fill succeeded; on any
// failure nothing is left at out or beside it.
func saveFile(out string, overwrite bool, fill func(io.Writer) (int64, error)) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".ais-*.tmp")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := fill(tmp)
	if err != nil {
		return n, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if err := place(tmp.Name(), out, overwrite); err != nil {
		return n, err
	}
	done = true
	return n, nil
}

// place moves tmp to out: with overwrite by rename, else by a hard link that
// fails if out appeared meanwhile (falling back to rename where links are
// not supported).
func place(tmp, out string, overwrite bool) error {
	if !overwrite {
		err := os.Link(tmp, out)
		switch {
		case err == nil:
			return os.Remove(tmp)
		case errors.Is(err, fs.ErrExist):
			os.Remove(tmp)
			return fmt.Errorf("%s already exists (use --yes to overwrite)", out)
		}
	}
	return os.Rename(tmp, out)
}

// copyVerified copies the object to w, checking its checksum, in whatever
// of the seven types the cluster stored it, when the whole object is read.
// An object stored without a checksum (type none) is copied unchecked.
func copyVerified(w io.Writer, rc io.Reader, a *api.ObjectAttrs, opts api.GetOptions) (int64, error) {
	whole := opts.Offset == 0 && opts.Length == 0
	if !whole || a.Checksum.Value == "" {
		return io.Copy(w, rc)
	}
	h, err := checksum.New(a.Checksum.Type)
	if err != nil {
		return 0, fmt.Errorf("cannot verify the object: %w", err)
	}
	if h == nil { // none
		return io.Copy(w, rc)
	}
	n, err := io.Copy(io.MultiWriter(w, h), rc)
	if err != nil {
		return n, err
	}
	if got := checksum.Value(h); !checksum.Equal(got, a.Checksum.Value) {
		return n, cluster.Errorf(cluster.ErrChecksum, "received content has %s %s, the cluster says %s", a.Checksum.Type, got, a.Checksum.Value)
	}
	return n, nil
}

// objectShow is "ais object show ais://B/O [--props all|NAME,...]": the
// object's properties (HEAD), all of them or those named.
func objectShow(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().First())
	if err != nil {
		return err
	}
	var only []string
	if p := strings.TrimSpace(c.String("props")); p != "" && p != "all" {
		for _, name := range strings.Split(p, ",") {
			if name = strings.TrimSpace(name); name != "" {
				only = append(only, name)
			}
		}
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	a, err := r.client.HeadObject(r.ctx, bck, obj)
	if err != nil {
		return err
	}
	rows := []struct{ name, value string }{
		{"name", a.Bucket.String() + "/" + a.Name},
		{"size", fmt.Sprintf("%s (%d bytes)", HumanSize(a.Size), a.Size)},
		{"checksum", dash(checksumString(a.Checksum))},
		{"version", dash(a.Version)},
		{"atime", formatAtime(a.Atime)},
		{"location", dash(a.Location)},
		{"mirror.copies", dash(strconv.Itoa(a.Copies))},
		{"mirror.paths", dash(strings.Join(a.Paths, ", "))},
		{"present", strconv.FormatBool(a.Present)},
	}
	for _, name := range only {
		if !slices.ContainsFunc(rows, func(row struct{ name, value string }) bool { return row.name == name }) {
			return usagef("unknown object property %q (one of name, size, checksum, version, atime, location, mirror.copies, mirror.paths, present, or all)", name)
		}
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "PROPERTY\tVALUE")
	for _, row := range rows {
		if len(only) == 0 || slices.Contains(only, row.name) {
			fmt.Fprintf(tw, "%s\t%s\n", row.name, row.value)
		}
	}
	return tw.Flush()
}

func checksumString(c cluster.Checksum) string {
	if c.Empty() {
		return ""
	}
	return c.String()
}

func objectRemove(r *runner, c *ucli.Context) error {
	type target struct {
		bck cluster.Bucket
		obj string
	}
	var ts []target
	for _, s := range c.Args().Slice() {
		bck, obj, err := objectArg(s)
		if err != nil {
			return err
		}
		ts = append(ts, target{bck, obj})
	}
	if len(ts) == 1 {
		r.setAttrs(objectAttrs(ts[0].bck, ts[0].obj, -1)...)
	}
	for _, t := range ts {
		if err := r.client.DeleteObject(r.ctx, t.bck, t.obj); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Deleted %s/%s\n", t.bck, t.obj)
	}
	return nil
}

// removeObjects is "ais rmo": without --list, --template or --prefix the
// arguments name objects, removed one by one (as "object rm"); with one of
// them the single argument names a bucket, and the cluster is asked to
// remove the selection as a job (AIStore's delete-listrange; a prefix
// travels as a template without ranges, as AIStore sends it).
func removeObjects(r *runner, c *ucli.Context) error {
	var sel api.ObjectSelection
	var given []string
	if l := c.String("list"); l != "" {
		given = append(given, "--list")
		for n := range strings.SplitSeq(l, ",") {
			if n = strings.TrimSpace(n); n != "" {
				sel.Names = append(sel.Names, n)
			}
		}
		if len(sel.Names) == 0 {
			return usagef("--list names no object")
		}
	}
	for _, f := range []string{"template", "prefix"} {
		if v := c.String(f); v != "" {
			given = append(given, "--"+f)
			sel.Template = v
		}
	}
	switch {
	case len(given) == 0:
		return objectRemove(r, c)
	case len(given) > 1:
		return usagef("%s do not combine: give one of --list, --template and --prefix", strings.Join(given, " and "))
	case c.Args().Len() != 1:
		return usagef("%s takes one bucket, got %d arguments", given[0], c.Args().Len())
	}
	bck, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	for _, n := range sel.Names {
		if err := cluster.ValidateObjectName(n); err != nil {
			return &usageError{err}
		}
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	id, err := r.client.DeleteObjects(r.ctx, bck, sel)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Started removing objects from %s: job %s\n", bck, id)
	return nil
}
