package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/cluster"
)

// commands returns the command tree.
func commands(env *Env) []*ucli.Command {
	tf := traceFlags
	return []*ucli.Command{
		{
			Name:  "bucket",
			Usage: "create, list and destroy buckets",
			Subcommands: []*ucli.Command{
				{
					Name: "create", Usage: "create buckets", ArgsUsage: "ais://BUCKET [ais://BUCKET ...]",
					Flags: tf(), Action: action(env, 1, -1, bucketCreate),
				},
				{
					Name: "ls", Aliases: []string{"list"}, Usage: "list the buckets of the cluster",
					Flags: tf(), Action: action(env, 0, 0, bucketList),
				},
				{
					Name: "rm", Aliases: []string{"destroy"}, Usage: "destroy buckets and every object in them",
					ArgsUsage: "ais://BUCKET [ais://BUCKET ...]",
					Flags:     tf(), Action: action(env, 1, -1, bucketRemove),
				},
			},
		},
		{
			Name:      "ls",
			Usage:     "list the objects of a bucket (no argument: list the buckets)",
			ArgsUsage: "[ais://BUCKET[/PREFIX]]",
			Flags: append([]ucli.Flag{
				&ucli.StringFlag{Name: "prefix", Usage: "list only the objects whose names start with `PREFIX`"},
				&ucli.Int64Flag{Name: "page-size", Usage: "objects per request (0: the server's default)"},
			}, tf()...),
			Action: action(env, 0, 1, listObjects),
		},
		{
			Name:  "put",
			Usage: "store a file (or stdin, or a directory) as an object",
			ArgsUsage: "FILE|-|DIR ais://BUCKET[/OBJECT]\n\n" +
				"   Without OBJECT (or with OBJECT ending in '/') the object is named after the file.\n" +
				"   '-' reads stdin (OBJECT required). A directory needs --recursive: every regular file\n" +
				"   below it becomes OBJECT/<relative path>.",
			Flags: append([]ucli.Flag{
				&ucli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "put every file below a directory"},
			}, tf()...),
			Action: action(env, 2, 2, putCommand),
		},
		{
			Name:  "get",
			Usage: "read an object into a file (or stdout)",
			ArgsUsage: "ais://BUCKET/OBJECT [OUT|-]\n\n" +
				"   OUT defaults to the object's base name; an existing directory receives OUT/<base name>;\n" +
				"   '-' writes stdout. An existing file is not overwritten without --yes.",
			Flags: append([]ucli.Flag{
				&ucli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "overwrite an existing file"},
				&ucli.Int64Flag{Name: "offset", Usage: "first byte to read"},
				&ucli.Int64Flag{Name: "length", Usage: "bytes to read (0: to the end)"},
			}, tf()...),
			Action: action(env, 1, 2, getCommand),
		},
		{
			Name:  "object",
			Usage: "show or remove objects",
			Subcommands: []*ucli.Command{
				{
					Name: "show", Usage: "show an object's properties", ArgsUsage: "ais://BUCKET/OBJECT",
					Flags: tf(), Action: action(env, 1, 1, objectShow),
				},
				{
					Name: "rm", Aliases: []string{"delete"}, Usage: "remove objects",
					ArgsUsage: "ais://BUCKET/OBJECT [ais://BUCKET/OBJECT ...]",
					Flags:     tf(), Action: action(env, 1, -1, objectRemove),
				},
			},
		},
		{
			Name:  "show",
			Usage: "show the cluster",
			Subcommands: []*ucli.Command{
				{
					Name: "cluster", Usage: "show the cluster map: proxies and targets",
					Flags: tf(), Action: action(env, 0, 0, showCluster),
				},
			},
		},
		{
			Name:  "trace",
			Usage: "show traces stored in Jaeger",
			Subcommands: []*ucli.Command{
				{
					Name: "show", Usage: "draw a trace as a waterfall (from $" + EnvJaegerURL + ")", ArgsUsage: "TRACE_ID",
					Action: action(env, 1, 1, traceShow),
				},
			},
		},
	}
}

// bucketArg parses a URI that must name a bucket and nothing else.
func bucketArg(s string) (cluster.Bucket, error) {
	bck, obj, err := api.ParseBucketURI(s)
	if err != nil {
		return bck, &usageError{err}
	}
	if obj != "" {
		return bck, usagef("%q names an object; expected ais://BUCKET", s)
	}
	return bck, nil
}

// objectArg parses a URI that must name an object.
func objectArg(s string) (cluster.Bucket, string, error) {
	bck, obj, err := api.ParseBucketURI(s)
	if err != nil {
		return bck, "", &usageError{err}
	}
	if obj == "" {
		return bck, "", usagef("%q names no object; expected ais://BUCKET/OBJECT", s)
	}
	if err := cluster.ValidateObjectName(obj); err != nil {
		return bck, "", &usageError{err}
	}
	return bck, obj, nil
}

func bucketCreate(r *runner, c *ucli.Context) error {
	return eachBucket(r, c, func(bck cluster.Bucket) error {
		if err := r.client.CreateBucket(r.ctx, bck); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Created bucket %s\n", bck)
		return nil
	})
}

func bucketRemove(r *runner, c *ucli.Context) error {
	return eachBucket(r, c, func(bck cluster.Bucket) error {
		if err := r.client.DestroyBucket(r.ctx, bck); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Destroyed bucket %s\n", bck)
		return nil
	})
}

// eachBucket parses every argument first (so that a typo fails before any
// change), then applies fn to each bucket in order, stopping at the first
// error.
func eachBucket(r *runner, c *ucli.Context, fn func(cluster.Bucket) error) error {
	var bcks []cluster.Bucket
	for _, a := range c.Args().Slice() {
		bck, err := bucketArg(a)
		if err != nil {
			return err
		}
		bcks = append(bcks, bck)
	}
	if len(bcks) == 1 {
		r.setAttrs(attribute.String("ais.bucket", bcks[0].String()))
	}
	for _, bck := range bcks {
		if err := fn(bck); err != nil {
			return err
		}
	}
	return nil
}

func bucketList(r *runner, _ *ucli.Context) error {
	bcks, err := r.client.ListBuckets(r.ctx)
	if err != nil {
		return err
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "NAME\tPROVIDER")
	for _, b := range bcks {
		fmt.Fprintf(tw, "%s\t%s\n", b, b.Provider)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Total: %d bucket(s)\n", len(bcks))
	return nil
}

func listObjects(r *runner, c *ucli.Context) error {
	if c.Args().Len() == 0 {
		if c.String("prefix") != "" {
			return usagef("--prefix needs a bucket")
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
	ents, err := r.client.ListObjects(r.ctx, bck, api.ListOptions{Prefix: prefix, PageSize: c.Int64("page-size")})
	if err != nil {
		return err
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "NAME\tSIZE\tVERSION\tCHECKSUM\tATIME")
	var total int64
	for _, e := range ents {
		total += e.Size
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, HumanSize(e.Size), dash(e.Version), dash(e.Checksum), formatAtime(e.Atime))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Total: %d object(s), %s\n", len(ents), HumanSize(total))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func showCluster(r *runner, _ *ucli.Context) error {
	m, err := r.client.ClusterMap(r.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Cluster %s, map version %d: %d proxy(ies), %d target(s)\n", dash(m.UUID), m.Version, len(m.Proxies), len(m.Targets))
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "ROLE\tNODE\tPUBLIC URL\tTRANSPORT\tSTATUS")
	row := func(n *cluster.Node) {
		status := "online"
		if n.Down() {
			status = "down"
		}
		if m.Primary != nil && n.ID == m.Primary.ID {
			status += ", primary"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Role, n.ID, dash(n.URL()), dash(n.TransportAddr()), status)
	}
	for _, id := range sortedKeys(m.Proxies) {
		row(m.Proxies[id])
	}
	for _, n := range m.TargetList() {
		row(n)
	}
	return tw.Flush()
}

func sortedKeys(m map[string]*cluster.Node) []string { return slices.Sorted(maps.Keys(m)) }

// formatAtime renders an access time sent as Unix nanoseconds in local time
// ("2026-01-02 15:04:05"); any other form is shown as sent.
func formatAtime(s string) string {
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ns <= 0 {
		return dash(s)
	}
	return time.Unix(0, ns).Local().Format(time.DateTime)
}
