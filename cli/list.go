package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/api/wire"
)

// listColumn is one entry property "ais ls --props" can show: its name in
// the request, its table header, and how a cell is rendered.
type listColumn struct {
	prop, header string
	cell         func(e *wire.LsoEntry) string
}

// Bits of wire.LsoEntry.Flags (AIStore's apc.Entry*): the low five bits
// hold a status, 64 says the object is present in the cluster.
const (
	entryStatusMask = 31
	entryPresent    = 64
)

// entryStatus names the low five bits of an entry's flags.
var entryStatus = map[uint16]string{0: "ok", 1: "misplaced", 2: "misplaced-mountpath", 3: "copy", 4: "copy-no-main"}

// listColumns are the properties "ais ls --props" knows, in AIStore's
// "--props all" order (api.ListPropsAll).
var listColumns = []listColumn{
	{"name", "NAME", func(e *wire.LsoEntry) string { return e.Name }},
	{"size", "SIZE", func(e *wire.LsoEntry) string {
		if isDir(e) {
			return "-"
		}
		return HumanSize(e.Size)
	}},
	{"checksum", "CHECKSUM", func(e *wire.LsoEntry) string { return dash(e.Checksum) }},
	{"atime", "ATIME", func(e *wire.LsoEntry) string { return formatAtime(e.Atime) }},
	{"version", "VERSION", func(e *wire.LsoEntry) string { return dash(e.Version) }},
	{"cached", "CACHED", func(e *wire.LsoEntry) string {
		if e.Flags&entryPresent != 0 {
			return "yes"
		}
		return "no"
	}},
	{"status", "STATUS", func(e *wire.LsoEntry) string {
		if s, ok := entryStatus[e.Flags&entryStatusMask]; ok {
			return s
		}
		return strconv.Itoa(int(e.Flags & entryStatusMask))
	}},
	{"copies", "COPIES", func(e *wire.LsoEntry) string { return strconv.Itoa(int(e.Copies)) }},
	{"custom", "CUSTOM", func(e *wire.LsoEntry) string { return dash(e.Custom) }},
	{"location", "LOCATION", func(e *wire.LsoEntry) string { return dash(e.Location) }},
}

// listPropNames is the list of known properties, for help texts.
var listPropNames = func() string {
	names := make([]string, len(listColumns))
	for i, c := range listColumns {
		names[i] = c.prop
	}
	return strings.Join(names, ",")
}()

// defaultColumns are the columns of a plain "ais ls" (api.DefaultListProps).
var defaultColumns = []string{"name", "size", "version", "checksum", "atime"}

func isDir(e *wire.LsoEntry) bool { return e.Flags&wire.EntryIsDir != 0 }

// listProps returns the props to request ("" for the default) and the
// columns to show, from --props and --name-only. Unknown properties are a
// usage error; "name" is always shown first.
func listProps(c *ucli.Context) (string, []listColumn, error) {
	props, nameOnly := strings.TrimSpace(c.String("props")), c.Bool("name-only")
	switch {
	case nameOnly && props != "":
		return "", nil, usagef("--name-only and --props do not combine")
	case nameOnly:
		props = "name"
	case props == "all":
		props = api.ListPropsAll
	}
	names := defaultColumns
	if props != "" {
		names = []string{"name"}
		for p := range strings.SplitSeq(props, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(names, p) {
				names = append(names, p)
			}
		}
	}
	cols := make([]listColumn, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(listColumns, func(lc listColumn) bool { return lc.prop == n })
		if i < 0 {
			return "", nil, usagef("--props: unknown property %q (known: %s, or all)", n, listPropNames)
		}
		cols = append(cols, listColumns[i])
	}
	if props == "" {
		return "", cols, nil
	}
	return strings.Join(names, ","), cols, nil
}

// lsOnlyFlags are the flags that shape an object listing; --summary and a
// bucket listing take none of them.
var lsOnlyFlags = []string{"props", "name-only", "limit", "no-recursion", "page-size", "archive"}

func listObjects(r *runner, c *ucli.Context) error {
	if c.Args().Len() == 0 {
		for _, f := range append([]string{"prefix", "summary"}, lsOnlyFlags...) {
			if c.IsSet(f) {
				return usagef("--%s needs a bucket", f)
			}
		}
		return bucketList(r, c)
	}
	bck, prefix, err := api.ParseBucketURI(c.Args().First())
	if err != nil {
		return &usageError{err}
	}
	if p := c.String("prefix"); p != "" {
		prefix += p
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	if c.Bool("summary") {
		for _, f := range lsOnlyFlags {
			if c.IsSet(f) {
				return usagef("--summary and --%s do not combine", f)
			}
		}
		return printSummary(r, bck, prefix)
	}
	props, cols, err := listProps(c)
	if err != nil {
		return err
	}
	opts := api.ListOptions{Prefix: prefix, PageSize: c.Int64("page-size"), Props: props, Limit: c.Int64("limit")}
	if opts.Limit < 0 || opts.PageSize < 0 {
		return usagef("--limit and --page-size must not be negative")
	}
	if props == "name" {
		opts.Flags |= wire.LsNameOnly
	}
	if c.Bool("no-recursion") {
		opts.Flags |= wire.LsNoRecursion
	}
	if c.Bool("archive") {
		opts.Flags |= wire.LsArchive
	}
	var missing []string
	opts.OnIncomplete = func(ids []string) {
		for _, id := range ids {
			if !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
	}
	ents, err := r.client.ListObjects(r.ctx, bck, opts)
	if err != nil {
		return err
	}
	if err := printEntries(r.stdout, ents, cols); err != nil {
		return err
	}
	warnIncomplete(r.stderr, "listing of "+bck.String(), missing)
	return nil
}

// warnIncomplete tells (on w, the standard error: a script reading the
// standard output gets only the listing) that a listing or summary lacks
// the objects of the targets named by ids, when there are any.
func warnIncomplete(w io.Writer, what string, ids []string) {
	if len(ids) == 0 {
		return
	}
	ids = slices.Sorted(slices.Values(ids))
	fmt.Fprintf(w, "Warning: the %s is incomplete: target(s) %s did not answer (down or unreachable); their objects are missing\n",
		what, strings.Join(ids, ", "))
}

// printEntries writes the listing as a table of cols and a total line:
// "Total: N object(s)", with the virtual directories (--no-recursion) and
// the files inside archives (--archive) counted apart, and the objects'
// total size when SIZE is a column.
func printEntries(w io.Writer, ents []*wire.LsoEntry, cols []listColumn) error {
	tw := newTable(w)
	cells := make([]string, len(cols))
	for i, col := range cols {
		cells[i] = col.header
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	var objs, dirs, inArch, total int64
	for _, e := range ents {
		switch {
		case isDir(e):
			dirs++
		case e.Flags&wire.EntryInArch != 0:
			inArch++
		default:
			objs++
			total += e.Size
		}
		for i, col := range cols {
			cells[i] = col.cell(e)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	line := fmt.Sprintf("Total: %d object(s)", objs)
	if dirs > 0 {
		line += fmt.Sprintf(", %d virtual director(ies)", dirs)
	}
	if inArch > 0 {
		line += fmt.Sprintf(", %d file(s) in archives", inArch)
	}
	if slices.ContainsFunc(cols, func(c listColumn) bool { return c.prop == "size" }) {
		line += ", " + HumanSize(total)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
