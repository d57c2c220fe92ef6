package cli

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/checksum"
	"miniais/cluster"
)

// The object operations beyond put and get, with AIStore's spellings:
// "object cp", "object mv", "put --append", "object concat", "object mpu
// create|put|complete|abort", "archive put", "get --archpath" and
// "ls --archive" (the last two are flags of get and ls).

// objectOpCommands returns the subcommands of "object" that this file
// implements.
func objectOpCommands(env *Env) []*ucli.Command {
	tf := traceFlags
	withTrace := func(fl ...ucli.Flag) []ucli.Flag { return append(fl, tf()...) }
	uploadFlag := func() ucli.Flag {
		return &ucli.StringFlag{Name: "upload-id", Usage: "the multipart upload's `ID` (instead of the argument)"}
	}
	return []*ucli.Command{
		{
			Name: "cp", Usage: "copy an object, within its bucket or to another",
			ArgsUsage: "ais://BUCKET/OBJECT ais://DST_BUCKET[/DST_OBJECT]\n\n" +
				"   Without DST_OBJECT (or with one ending in '/') the copy keeps the object's name.",
			Flags: tf(), Action: action(env, 2, 2, objectCopy),
		},
		{
			Name: "mv", Aliases: []string{"rename"}, Usage: "rename an object within its bucket",
			ArgsUsage: "ais://BUCKET/OBJECT ais://BUCKET/NEW_NAME|NEW_NAME",
			Flags:     tf(), Action: action(env, 2, 2, objectRename),
		},
		{
			Name: "concat", Usage: "append files (and the files below directories, in name order) to an object, then make it visible",
			ArgsUsage: "FILE|DIR [FILE|DIR ...] ais://BUCKET/OBJECT\n\n" +
				"   The object is created when missing. Its new content appears at once, after the last file,\n" +
				"   with its checksum verified by the cluster.",
			Flags: tf(), Action: action(env, 2, -1, objectConcat),
		},
		{
			Name:  "mpu",
			Usage: "multipart upload: create, put parts, complete, abort, list",
			Subcommands: []*ucli.Command{
				{
					Name: "create", Usage: "start a multipart upload and print its ID", ArgsUsage: "ais://BUCKET/OBJECT",
					Flags: tf(), Action: action(env, 1, 1, mpuCreate),
				},
				{
					Name: "put", Usage: "upload one part from a file (parts may come in any order, in parallel)",
					ArgsUsage: "ais://BUCKET/OBJECT UPLOAD_ID PART_NUMBER FILE\n" +
						"   ais object mpu put ais://BUCKET/OBJECT FILE --upload-id ID --part-number N",
					Flags: withTrace(uploadFlag(),
						&ucli.IntFlag{Name: "part-number", Usage: "the part's `NUMBER` (1 to 10000)"},
					),
					Action: action(env, 2, 4, mpuPut),
				},
				{
					Name: "complete", Usage: "join the listed parts, in part-number order, into the object",
					ArgsUsage: "ais://BUCKET/OBJECT UPLOAD_ID PART_NUMBERS\n\n" +
						"   PART_NUMBERS is a comma-separated list (1,2,3) or a range (1-3); or give --part-numbers.",
					Flags: withTrace(uploadFlag(),
						&ucli.StringFlag{Name: "part-numbers", Usage: "comma-separated part `NUMBERS` (or a range, 1-10)"},
					),
					Action: action(env, 1, 3, mpuComplete),
				},
				{
					Name: "abort", Usage: "abort a multipart upload and remove its parts",
					ArgsUsage: "ais://BUCKET/OBJECT UPLOAD_ID",
					Flags:     withTrace(uploadFlag()), Action: action(env, 1, 2, mpuAbort),
				},
				{
					Name: "ls", Aliases: []string{"list"}, Usage: "list the multipart uploads in progress of a bucket",
					ArgsUsage: "ais://BUCKET",
					Flags:     tf(), Action: action(env, 1, 1, mpuList),
				},
			},
		},
	}
}

// archiveCommand returns "archive" ("archive put").
func archiveCommand(env *Env) *ucli.Command {
	return &ucli.Command{
		Name:  "archive",
		Usage: "add files to TAR archives (read them back with 'get --archpath', list them with 'ls --archive')",
		Subcommands: []*ucli.Command{
			{
				Name: "put", Usage: "add a file to a TAR archive object",
				ArgsUsage: "FILE|- ais://BUCKET/ARCHIVE.tar\n\n" +
					"   Without --append or --append-or-put the archive is made anew with the one file\n" +
					"   (replacing any object of that name), as AIStore does.",
				Flags: append([]ucli.Flag{
					&ucli.StringFlag{Name: "archpath", Usage: "the file's `NAME` in the archive (default: FILE's base name)"},
					&ucli.BoolFlag{Name: "append", Usage: "append to an existing archive (it must exist)"},
					&ucli.BoolFlag{Name: "append-or-put", Usage: "append if the archive exists, else create it"},
					&ucli.StringFlag{Name: "archmime", Usage: "the archive's format (default: by its name; only TAR is implemented)"},
				}, traceFlags()...),
				Action: action(env, 2, 2, archivePut),
			},
		},
	}
}

func objectCopy(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	dst, dstObj, err := api.ParseBucketURI(c.Args().Get(1))
	if err != nil {
		return &usageError{err}
	}
	if dstObj == "" || strings.HasSuffix(dstObj, "/") {
		dstObj += obj
	}
	if err := cluster.ValidateObjectName(dstObj); err != nil {
		return &usageError{err}
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	r.setAttrs(attribute.String("ais.dst_bucket", dst.String()), attribute.String("ais.dst_object", dstObj))
	if _, err := r.client.CopyObject(r.ctx, bck, obj, dst, dstObj); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Copied %s/%s => %s/%s\n", bck, obj, dst, dstObj)
	return nil
}

func objectRename(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	to := c.Args().Get(1)
	newName := to
	if strings.Contains(to, "://") {
		dst, name, err := api.ParseBucketURI(to)
		if err != nil {
			return &usageError{err}
		}
		if dst != bck {
			return usagef("an object is renamed within its bucket (%s), not to %s (copy it with 'object cp')", bck, dst)
		}
		newName = name
	}
	if err := cluster.ValidateObjectName(newName); err != nil {
		return &usageError{err}
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	r.setAttrs(attribute.String("ais.new_object", newName))
	if err := r.client.RenameObject(r.ctx, bck, obj, newName); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Renamed %s/%s => %s/%s\n", bck, obj, bck, newName)
	return nil
}

// appendFiles appends files in order to the object and flushes it. Each
// regular file is hashed first with the bucket's checksum type (the CLI
// learns it with HEAD bucket, as AIStore's does) and sent with that
// checksum, which the cluster verifies piece by piece.
func appendFiles(r *runner, files []string, bck cluster.Bucket, obj string) (int64, error) {
	props, err := r.client.HeadBucket(r.ctx, bck)
	if err != nil {
		return 0, err
	}
	typ := props.Checksum.Type
	if !checksum.Valid(typ) {
		typ = checksum.None
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	handle := ""
	var total int64
	for _, file := range files {
		n, h, err := appendFile(r, file, typ, bck, obj, handle)
		if err != nil {
			return 0, fmt.Errorf("append %s: %w", file, err)
		}
		handle = h
		total += n
	}
	if _, err := r.client.FlushObject(r.ctx, bck, obj, handle, cluster.Checksum{}); err != nil {
		return 0, err
	}
	r.setAttrs(attribute.Int64("ais.size", total))
	return total, nil
}

// appendFile appends one file (hashed first when it is a regular file) and
// returns its size and the new handle.
func appendFile(r *runner, file, typ string, bck cluster.Bucket, obj, handle string) (int64, string, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	opts := api.PutOptions{Size: -1}
	if fi.Mode().IsRegular() {
		opts.Size = fi.Size()
		var h checksum.Hasher
		h.Reset(typ)
		if _, err := io.Copy(&h, f); err != nil {
			return 0, "", err
		}
		if v := h.Value(); v != "" {
			opts.Checksum = cluster.Checksum{Type: typ, Value: v}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, "", err
		}
	}
	var body io.Reader = f
	if !fi.Mode().IsRegular() {
		body = struct{ io.Reader }{f} // read once, sent chunked
	}
	handle, err = r.client.AppendObject(r.ctx, bck, obj, handle, body, opts)
	if err != nil {
		return 0, "", err
	}
	return max(opts.Size, 0), handle, nil
}

// putAppend is "put --append FILE ais://BUCKET/OBJECT": one append and the
// flush.
func putAppend(r *runner, src string, bck cluster.Bucket, obj string) error {
	if src == "-" {
		return usagef("--append reads a file, not stdin")
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return usagef("%s is a directory (use 'object concat' to append the files below it)", src)
	}
	if obj == "" || strings.HasSuffix(obj, "/") {
		obj += filepath.Base(src)
	}
	if err := cluster.ValidateObjectName(obj); err != nil {
		return &usageError{err}
	}
	n, err := appendFiles(r, []string{src}, bck, obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "APPEND %s => %s/%s (%s)\n", src, bck, obj, HumanSize(n))
	return nil
}

func objectConcat(r *runner, c *ucli.Context) error {
	args := c.Args().Slice()
	bck, obj, err := objectArg(args[len(args)-1])
	if err != nil {
		return err
	}
	var files []string
	for _, src := range args[:len(args)-1] {
		fi, err := os.Stat(src)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			files = append(files, src)
			continue
		}
		var below []string
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				below = append(below, p)
			}
			return err
		})
		if err != nil {
			return err
		}
		slices.Sort(below)
		files = append(files, below...)
	}
	if len(files) == 0 {
		return usagef("no files to concatenate")
	}
	n, err := appendFiles(r, files, bck, obj)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Concatenated %d file(s) (%s) => %s/%s\n", len(files), HumanSize(n), bck, obj)
	return nil
}

func mpuCreate(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().First())
	if err != nil {
		return err
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	if _, err := r.client.HeadBucket(r.ctx, bck); err != nil {
		return err
	}
	id, err := r.client.CreateMultipartUpload(r.ctx, bck, obj)
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.upload_id", id))
	fmt.Fprintf(r.stdout, "Upload ID: %s\n", id)
	return nil
}

// uploadIDArg returns --upload-id, else the argument at i.
func uploadIDArg(c *ucli.Context, i int) (string, error) {
	id := c.String("upload-id")
	if id == "" {
		id = c.Args().Get(i)
	}
	if id == "" {
		return "", usagef("missing the upload ID (an argument or --upload-id)")
	}
	return id, nil
}

func mpuPut(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	var id, file string
	part := c.Int("part-number")
	switch c.Args().Len() {
	case 4: // OBJECT UPLOAD_ID PART_NUMBER FILE
		id, file = c.Args().Get(1), c.Args().Get(3)
		if part, err = strconv.Atoi(c.Args().Get(2)); err != nil {
			return usagef("part number %q: %v", c.Args().Get(2), err)
		}
	case 3: // OBJECT UPLOAD_ID FILE --part-number N
		id, file = c.Args().Get(1), c.Args().Get(2)
	case 2: // OBJECT FILE --upload-id ID --part-number N
		file = c.Args().Get(1)
	}
	if v := c.String("upload-id"); v != "" {
		id = v
	}
	if c.IsSet("part-number") {
		part = c.Int("part-number")
	}
	switch {
	case id == "":
		return usagef("missing the upload ID (an argument or --upload-id)")
	case part <= 0:
		return usagef("missing or bad part number (an argument or --part-number, from 1)")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return usagef("%s is a directory", file)
	}
	r.setAttrs(objectAttrs(bck, obj, fi.Size())...)
	r.setAttrs(attribute.String("ais.upload_id", id), attribute.Int("ais.part_number", part))
	size := fi.Size()
	if !fi.Mode().IsRegular() {
		size = -1
	}
	if _, err := r.client.UploadPart(r.ctx, bck, obj, id, part, f, size); err != nil {
		return fmt.Errorf("upload part %d: %w", part, err)
	}
	fmt.Fprintf(r.stdout, "Uploaded part %d for %s/%s (upload ID: %s)\n", part, bck, obj, id)
	return nil
}

// parsePartNumbers parses "1,2,3", "1-3" or a mix ("1-3,5").
func parsePartNumbers(s string) ([]int, error) {
	var out []int
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a <= 0 {
			return nil, usagef("bad part number %q", item)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, usagef("bad part range %q", item)
			}
		}
		for n := a; n <= b; n++ {
			out = append(out, n)
		}
	}
	return out, nil
}

func mpuComplete(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	id, err := uploadIDArg(c, 1)
	if err != nil {
		return err
	}
	list := c.String("part-numbers")
	if list == "" {
		list = c.Args().Get(2)
		if c.String("upload-id") != "" && c.Args().Len() == 2 {
			list = c.Args().Get(1)
		}
	}
	if list == "" {
		return usagef("missing the part numbers (1,2,3 or 1-3; an argument or --part-numbers)")
	}
	parts, err := parsePartNumbers(list)
	if err != nil {
		return err
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	r.setAttrs(attribute.String("ais.upload_id", id), attribute.Int("ais.parts", len(parts)))
	a, err := r.client.CompleteMultipartUpload(r.ctx, bck, obj, id, parts)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Completed multipart upload of %s/%s: %d part(s), checksum %s\n", bck, obj, len(parts), dash(checksumString(a.Checksum)))
	return nil
}

func mpuAbort(r *runner, c *ucli.Context) error {
	bck, obj, err := objectArg(c.Args().Get(0))
	if err != nil {
		return err
	}
	id, err := uploadIDArg(c, 1)
	if err != nil {
		return err
	}
	r.setAttrs(objectAttrs(bck, obj, -1)...)
	r.setAttrs(attribute.String("ais.upload_id", id))
	if err := r.client.AbortMultipartUpload(r.ctx, bck, obj, id); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Aborted multipart upload %s of %s/%s\n", id, bck, obj)
	return nil
}

func mpuList(r *runner, c *ucli.Context) error {
	bck, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	ups, err := r.client.ListMultipartUploads(r.ctx, bck)
	if err != nil {
		return err
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "OBJECT\tUPLOAD ID\tPARTS\tSIZE\tTARGET\tCREATED")
	for _, u := range ups {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", u.Object, u.ID, u.Parts, HumanSize(u.Size), u.Target,
			time.Unix(0, u.Created).UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(r.stdout, "Total: %d upload(s)\n", len(ups))
	return err
}

func archivePut(r *runner, c *ucli.Context) error {
	src := c.Args().Get(0)
	bck, arch, err := objectArg(c.Args().Get(1))
	if err != nil {
		return err
	}
	member := c.String("archpath")
	if member == "" {
		if src == "-" {
			return usagef("reading stdin needs --archpath")
		}
		member = filepath.Base(src)
	}
	opts := api.ArchiveOptions{Size: -1, Mime: c.String("archmime"), Append: c.Bool("append"), AppendOrPut: c.Bool("append-or-put")}
	if opts.Append && opts.AppendOrPut {
		return usagef("--append and --append-or-put do not combine")
	}
	var body io.Reader = r.env.Stdin
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return usagef("%s is a directory", src)
		}
		if fi.Mode().IsRegular() {
			opts.Size = fi.Size()
		}
		body = f
	}
	r.setAttrs(objectAttrs(bck, arch, opts.Size)...)
	r.setAttrs(attribute.String("ais.archpath", member))
	if _, err := r.client.PutArchiveMember(r.ctx, bck, arch, member, body, opts); err != nil {
		return err
	}
	verb := "PUT"
	if opts.Append || opts.AppendOrPut {
		verb = "APPEND"
	}
	fmt.Fprintf(r.stdout, "%s %s => %s/%s/%s\n", verb, src, bck, arch, member)
	return nil
}

// getArchived is "get ais://BUCKET/ARCHIVE.tar [OUT] --archpath P".
func getArchived(r *runner, c *ucli.Context, bck cluster.Bucket, arch, member string, opts api.GetOptions) error {
	out := c.Args().Get(1)
	if out == "" {
		out = path.Base(member)
	}
	r.setAttrs(objectAttrs(bck, arch, -1)...)
	r.setAttrs(attribute.String("ais.archpath", member))
	if out == "-" {
		_, err := r.client.GetArchiveMember(r.ctx, bck, arch, member, r.stdout, opts)
		return err
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		out = filepath.Join(out, path.Base(member))
	}
	yes := c.Bool("yes")
	if _, err := os.Lstat(out); err == nil && !yes {
		return fmt.Errorf("%s already exists (use --yes to overwrite)", out)
	}
	rc, size, err := r.client.GetArchiveMemberReader(r.ctx, bck, arch, member, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := saveFile(out, yes, func(tmp io.Writer) (int64, error) {
		n, err := io.Copy(tmp, rc)
		if err == nil && size >= 0 && opts.Length == 0 && n != size-opts.Offset {
			err = fmt.Errorf("received %d of %d bytes", n, size-opts.Offset)
		}
		if err != nil {
			return n, fmt.Errorf("GET %s/%s file %s: %w", bck, arch, member, err)
		}
		return n, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "GET %s/%s/%s => %s (%s)\n", bck, arch, member, out, HumanSize(n))
	return nil
}
