package cli

import (
	ucli "github.com/urfave/cli/v2"
)

// commands returns the command tree. Besides its own spellings ("bucket
// create", "object rm") the CLI answers to AIStore's ("create", "rmb",
// "rmo", "bucket props", "show cluster smap", "config cluster", "storage
// summary"), with AIStore's flags where it has the feature.
func commands(env *Env) []*ucli.Command {
	tf := traceFlags
	jsonFlag := func() ucli.Flag {
		return &ucli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print JSON instead of a table"}
	}
	withTrace := func(fl ...ucli.Flag) []ucli.Flag { return append(fl, tf()...) }
	create := func(name, usage string) *ucli.Command {
		return &ucli.Command{
			Name: name, Usage: usage, ArgsUsage: "ais://BUCKET [ais://BUCKET ...]",
			Flags: tf(), Action: action(env, 1, -1, bucketCreate),
		}
	}
	return []*ucli.Command{
		{
			Name:  "bucket",
			Usage: "create, list, copy, rename and destroy buckets; show and change their properties",
			Subcommands: append([]*ucli.Command{
				create("create", "create buckets"),
				{
					Name: "ls", Aliases: []string{"list"}, Usage: "list the buckets of the cluster",
					Flags: tf(), Action: action(env, 0, 0, bucketList),
				},
				{
					Name: "rm", Aliases: []string{"destroy"}, Usage: "destroy buckets and every object in them",
					ArgsUsage: "ais://BUCKET [ais://BUCKET ...]",
					Flags:     tf(), Action: action(env, 1, -1, bucketRemove),
				},
				{
					Name:  "props",
					Usage: "show, set or reset a bucket's properties",
					Subcommands: []*ucli.Command{
						{
							Name: "show", Usage: "show a bucket's properties (those whose names start with KEY)",
							ArgsUsage: "ais://BUCKET [KEY]",
							Flags:     withTrace(jsonFlag()), Action: action(env, 1, 2, bucketPropsShow),
						},
						{
							Name: "set", Usage: "change bucket properties",
							ArgsUsage: "ais://BUCKET KEY=VALUE [KEY=VALUE ...]\n\n" +
								"   KEY is a property as 'bucket props show' names it (checksum.type, versioning.enabled,\n" +
								"   mirror.copies, access); VALUE is converted to the property's type.",
							Flags: tf(), Action: action(env, 2, -1, bucketPropsSet),
						},
						{
							Name: "reset", Usage: "restore a bucket's default properties", ArgsUsage: "ais://BUCKET",
							Flags: tf(), Action: action(env, 1, 1, bucketPropsReset),
						},
					},
				},
			}, bucketJobCommands(env)...),
		},
		create("create", "create buckets (same as 'bucket create')"),
		{
			Name: "rmb", Usage: "destroy buckets and every object in them, after confirmation",
			ArgsUsage: "ais://BUCKET [ais://BUCKET ...]",
			Flags: withTrace(
				&ucli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			),
			Action: action(env, 1, -1, bucketRemoveConfirmed),
		},
		{
			Name:  "rmo",
			Usage: "remove objects: named ones, or (as a job) a list, template or prefix of them",
			ArgsUsage: "ais://BUCKET/OBJECT [ais://BUCKET/OBJECT ...]\n" +
				"   ais rmo ais://BUCKET --list NAME[,NAME...] | --template TEMPLATE | --prefix PREFIX",
			Flags: withTrace(
				&ucli.StringFlag{Name: "list", Usage: "comma-separated object `NAMES` to remove"},
				&ucli.StringFlag{Name: "template", Usage: "remove the objects matching `TEMPLATE` (\"shard-{0..9}.tar\")"},
				&ucli.StringFlag{Name: "prefix", Usage: "remove every object whose name starts with `PREFIX`"},
			),
			Action: action(env, 1, -1, removeObjects),
		},
		{
			Name:      "ls",
			Usage:     "list the objects of a bucket (no argument: list the buckets)",
			ArgsUsage: "[ais://BUCKET[/PREFIX]]",
			Flags: withTrace(
				&ucli.StringFlag{Name: "prefix", Usage: "list only the objects whose names start with `PREFIX`"},
				&ucli.Int64Flag{Name: "page-size", Usage: "objects per request (0: the server's default)"},
				&ucli.StringFlag{Name: "props", Usage: "comma-separated entry properties to show (" + listPropNames + "), or 'all'"},
				&ucli.BoolFlag{Name: "name-only", Usage: "list names only (same as --props name)"},
				&ucli.Int64Flag{Name: "limit", Usage: "list at most `N` objects (0: all)"},
				&ucli.BoolFlag{Name: "no-recursion", Aliases: []string{"nr"}, Usage: "list one level: virtual directories below the prefix are shown as entries"},
				&ucli.BoolFlag{Name: "summary", Usage: "show the bucket's object count, size on disk and share of capacity instead of its objects"},
				&ucli.BoolFlag{Name: "archive", Usage: "list the files inside TAR archives too (as ARCHIVE.tar/FILE)"},
			),
			Action: action(env, 0, 1, listObjects),
		},
		{
			Name:  "put",
			Usage: "store a file (or stdin, or a directory) as an object",
			ArgsUsage: "FILE|-|DIR ais://BUCKET[/OBJECT]\n\n" +
				"   Without OBJECT (or with OBJECT ending in '/') the object is named after the file.\n" +
				"   '-' reads stdin (OBJECT required). A directory needs --recursive: every regular file\n" +
				"   below it becomes OBJECT/<relative path>.",
			Flags: withTrace(
				&ucli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "put every file below a directory"},
				&ucli.BoolFlag{Name: "append", Usage: "append FILE to the object (created when missing) instead of replacing it"},
			),
			Action: action(env, 2, 2, putCommand),
		},
		{
			Name:  "get",
			Usage: "read an object into a file (or stdout)",
			ArgsUsage: "ais://BUCKET/OBJECT [OUT|-]\n\n" +
				"   OUT defaults to the object's base name; an existing directory receives OUT/<base name>;\n" +
				"   '-' writes stdout. An existing file is not overwritten without --yes.",
			Flags: withTrace(
				&ucli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "overwrite an existing file"},
				&ucli.Int64Flag{Name: "offset", Usage: "first byte to read"},
				&ucli.Int64Flag{Name: "length", Usage: "bytes to read (0: to the end)"},
				&ucli.StringFlag{Name: "archpath", Usage: "read the file `NAME` inside the TAR archive object"},
			),
			Action: action(env, 1, 2, getCommand),
		},
		archiveCommand(env),
		{
			Name:  "object",
			Usage: "show, remove, copy, rename, concatenate objects; multipart uploads",
			Subcommands: append([]*ucli.Command{
				{
					Name: "show", Usage: "show an object's properties", ArgsUsage: "ais://BUCKET/OBJECT",
					Flags: withTraceFlags(&ucli.StringFlag{Name: "props",
						Usage: "the properties to show, comma-separated (name, size, checksum, version, atime, location, mirror.copies, mirror.paths, present), or `all` (the default)"}),
					Action: action(env, 1, 1, objectShow),
				},
				{
					Name: "rm", Aliases: []string{"delete"}, Usage: "remove objects",
					ArgsUsage: "ais://BUCKET/OBJECT [ais://BUCKET/OBJECT ...]",
					Flags:     tf(), Action: action(env, 1, -1, objectRemove),
				},
			}, objectOpCommands(env)...),
		},
		{
			Name:  "show",
			Usage: "show the cluster and its jobs",
			Subcommands: append([]*ucli.Command{
				{
					Name: "cluster", Usage: "show the cluster map: proxies and targets",
					Flags: tf(), Action: action(env, 0, -1, showCluster),
					Subcommands: []*ucli.Command{
						{
							Name: "smap", Usage: "show the cluster map (smap) with every node's URLs and flags",
							Flags: withTrace(jsonFlag()), Action: action(env, 0, 0, showSmap),
						},
						{
							Name: "bmd", Usage: "show the bucket metadata (BMD): every bucket",
							Flags: withTrace(jsonFlag()), Action: action(env, 0, 0, showBMD),
						},
						{
							Name: "config", Usage: "show the cluster configuration (the keys that start with KEY)",
							ArgsUsage: "[KEY]",
							Flags:     withTrace(jsonFlag()), Action: action(env, 0, 1, showClusterConfig),
						},
					},
				},
			}, append(showJobCommands(env), showPerformanceCommand(env))...),
		},
		jobCommand(env),
		clusterCommand(env),
		{
			Name:  "config",
			Usage: "show or change configuration",
			Subcommands: []*ucli.Command{
				{
					Name:  "cluster",
					Usage: "show the cluster configuration, or set values in it",
					ArgsUsage: "[KEY | KEY=VALUE [KEY=VALUE ...] | KEY VALUE [KEY VALUE ...]]\n\n" +
						"   With values, each KEY (checksum.type, log.level, ...) is set cluster-wide and the\n" +
						"   new values are read back and shown.",
					Flags: withTrace(jsonFlag(),
						&ucli.BoolFlag{Name: "transient", Usage: "keep the change only until the nodes restart"},
					),
					Action: action(env, 0, -1, configCluster),
				},
			},
		},
		{
			Name:  "storage",
			Usage: "show how buckets use the cluster's storage",
			Subcommands: []*ucli.Command{
				{
					Name: "summary", Usage: "show a bucket's object count, size on disk and share of capacity",
					ArgsUsage: "ais://BUCKET[/PREFIX]",
					Flags: withTrace(
						&ucli.StringFlag{Name: "prefix", Usage: "count only the objects whose names start with `PREFIX`"},
					),
					Action: action(env, 1, 1, storageSummary),
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
