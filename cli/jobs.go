package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
)

// Jobs: "ais show job", "ais show rebalance", "ais job wait|stop|start",
// "ais bucket cp", "ais bucket mv" (AIStore's spellings; the requests are
// those of shared/aistore-clients.md section 1).

// waitFlags are the flags of the commands that may wait for their job.
func waitFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.BoolFlag{Name: "wait", Usage: "wait for the job to end"},
		&ucli.DurationFlag{Name: "timeout", Usage: "give up waiting after `DURATION` (0: no limit)"},
		&ucli.DurationFlag{Name: "refresh", Value: time.Second, Usage: "first interval between two polls of the job's status"},
	}
}

// showJobCommands are the job subcommands of "ais show".
func showJobCommands(env *Env) []*ucli.Command {
	return []*ucli.Command{
		{
			Name: "job", Usage: "show running jobs (with --all also the ended ones), or one job", ArgsUsage: "[JOB_ID | KIND]",
			Flags: withTraceFlags(
				&ucli.BoolFlag{Name: "all", Usage: "also the jobs that have ended"},
				&ucli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print the targets' snapshots as JSON"},
			),
			Action: action(env, 0, 1, showJob),
		},
		{
			Name: "rebalance", Usage: "show the running rebalance (with --all every one kept)",
			Flags: withTraceFlags(
				&ucli.BoolFlag{Name: "all", Usage: "also the rebalances that have ended"},
				&ucli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print the targets' snapshots as JSON"},
			),
			Action: action(env, 0, 0, showRebalance),
		},
	}
}

// jobCommand is "ais job".
func jobCommand(env *Env) *ucli.Command {
	return &ucli.Command{
		Name:  "job",
		Usage: "wait for, stop or start jobs",
		Subcommands: []*ucli.Command{
			{
				Name: "wait", Usage: "wait for a job to end (exit 1 when it was aborted)", ArgsUsage: "JOB_ID",
				Flags:  withTraceFlags(waitFlags()[1:]...),
				Action: action(env, 1, 1, jobWait),
			},
			{
				Name: "stop", Usage: "stop a job, or every running job of a kind", ArgsUsage: "JOB_ID | KIND",
				Flags:  traceFlags(),
				Action: action(env, 1, 1, jobStop),
			},
			{
				Name: "start", Usage: "start a job: rebalance, or mirror (make-n-copies) of a bucket with --copies N",
				ArgsUsage: "rebalance | mirror --copies N ais://BUCKET",
				Flags: withTraceFlags(&ucli.IntFlag{Name: "copies",
					Usage: "mirror: the number of copies of each object (mirror.copies; 1 ends mirroring)"}),
				Action: action(env, 1, 2, jobStart),
			},
		},
	}
}

// bucketJobCommands are "ais bucket cp" and "ais bucket mv".
func bucketJobCommands(env *Env) []*ucli.Command {
	return []*ucli.Command{
		{
			Name: "cp", Aliases: []string{"copy"}, Usage: "copy a bucket (as a job); the destination is created when missing",
			ArgsUsage: "ais://SRC ais://DST",
			Flags: withTraceFlags(append([]ucli.Flag{
				&ucli.StringFlag{Name: "prefix", Usage: "copy only the objects whose names start with `PREFIX`"},
				&ucli.BoolFlag{Name: "dry-run", Usage: "count what would be copied; write nothing"},
			}, waitFlags()...)...),
			Action: action(env, 2, 2, bucketCopy),
		},
		{
			Name: "mv", Aliases: []string{"rename"}, Usage: "rename a bucket (as a job); the destination must not exist",
			ArgsUsage: "ais://SRC ais://DST",
			Flags:     withTraceFlags(waitFlags()...),
			Action:    action(env, 2, 2, bucketMove),
		},
	}
}

func withTraceFlags(fl ...ucli.Flag) []ucli.Flag { return append(fl, traceFlags()...) }

// jobKinds maps the names "ais show job KIND" and "ais job stop KIND" take
// (AIStore's display names and kinds) to kinds.
var jobKinds = map[string]string{
	"rebalance": wire.KindRebalance, "copy-bucket": wire.KindCopyBck, wire.KindCopyBck: wire.KindCopyBck,
	"rename-bucket": wire.KindMoveBck, wire.KindMoveBck: wire.KindMoveBck,
	"delete-objects": wire.KindDeleteListRange, wire.KindDeleteListRange: wire.KindDeleteListRange,
	"mirror": wire.KindMakeNCopies, wire.KindMakeNCopies: wire.KindMakeNCopies,
}

// isJobID reports whether s has the form of a job or rebalance ID.
func isJobID(s string) bool { return api.ValidJobID(s) || api.ValidRebalanceID(s) }

// showJob is "ais show job [ID|KIND] [--all] [--json]".
func showJob(r *runner, c *ucli.Context) error {
	var q api.JobQuery
	arg := c.Args().First()
	switch kind, ok := jobKinds[arg]; {
	case arg == "":
	case ok:
		q.Kind = kind
	case isJobID(arg):
		q.ID = arg
	default:
		return usagef("%q is neither a job ID nor a job kind (%s)", arg, strings.Join(sortedKeys(jobKinds), ", "))
	}
	if q.ID == "" && !c.Bool("all") {
		t := true
		q.ShowActive = &t
	}
	r.setAttrs(attribute.String("ais.job_id", q.ID), attribute.String("ais.job_kind", q.Kind))
	snaps, err := r.client.QueryJobs(r.ctx, q)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(r.stdout, snaps)
	}
	return printJobs(r, snaps, q.ID == "")
}

// showRebalance is "ais show rebalance [--all]": one row per target.
func showRebalance(r *runner, c *ucli.Context) error {
	q := api.JobQuery{Kind: wire.KindRebalance}
	if !c.Bool("all") {
		t := true
		q.ShowActive = &t
	}
	snaps, err := r.client.QueryJobs(r.ctx, q)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(r.stdout, snaps)
	}
	if countSnaps(snaps) == 0 {
		if c.Bool("all") {
			fmt.Fprintln(r.stdout, "No rebalance")
		} else {
			fmt.Fprintln(r.stdout, "No rebalance is running")
		}
		return nil
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "REBALANCE ID\tTARGET\tOBJECTS SENT\tBYTES SENT\tOBJECTS RECEIVED\tBYTES RECEIVED\tSTART\tEND\tSTATE")
	for _, tid := range sortedKeys(snaps) {
		for _, s := range snaps[tid] {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, tid, s.Stats.OutObjs, HumanSize(s.Stats.OutBytes),
				s.Stats.InObjs, HumanSize(s.Stats.InBytes), clock(s.StartTime), clock(s.EndTime), snapState(&s))
		}
	}
	return tw.Flush()
}

func countSnaps(snaps wire.JobSnaps) int {
	n := 0
	for _, l := range snaps {
		n += len(l)
	}
	return n
}

// jobRow is one job summed over the targets.
type jobRow struct {
	id, kind, bck string
	stats         wire.JobStats
	start, end    time.Time
	targets       int
	running       bool
	aborted       bool
	err           string
}

// printJobs prints one row per job, its counters summed over the targets;
// a job that still runs on any target is running.
func printJobs(r *runner, snaps wire.JobSnaps, none bool) error {
	rows := map[string]*jobRow{}
	for _, list := range snaps {
		for _, s := range list {
			row := rows[s.ID]
			if row == nil {
				row = &jobRow{id: s.ID, kind: s.Kind, bck: snapBuckets(&s), start: s.StartTime}
				rows[s.ID] = row
			}
			row.targets++
			row.stats.LocObjs += s.Stats.LocObjs
			row.stats.LocBytes += s.Stats.LocBytes
			row.stats.OutObjs += s.Stats.OutObjs
			row.stats.InObjs += s.Stats.InObjs
			if s.StartTime.Before(row.start) {
				row.start = s.StartTime
			}
			if s.EndTime.After(row.end) {
				row.end = s.EndTime
			}
			row.running = row.running || s.Running()
			row.aborted = row.aborted || s.Aborted
			if row.err == "" {
				row.err = cmp.Or(s.AbortErr, s.Err)
			}
		}
	}
	if len(rows) == 0 {
		if none {
			fmt.Fprintln(r.stdout, "No jobs")
		}
		return nil
	}
	list := make([]*jobRow, 0, len(rows))
	for _, row := range rows {
		list = append(list, row)
	}
	slices.SortFunc(list, func(a, b *jobRow) int { return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.id, b.id)) })
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "JOB ID\tKIND\tBUCKET\tTARGETS\tOBJECTS\tBYTES\tSTART\tEND\tSTATE")
	for _, row := range list {
		state := "running"
		switch {
		case row.aborted:
			state = "aborted: " + row.err
		case row.running:
		case row.err != "":
			state = "finished with errors: " + row.err
		default:
			state = "finished"
		}
		end := time.Time{}
		if !row.running || row.aborted {
			end = row.end
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", row.id, row.kind, dash(row.bck), row.targets,
			row.stats.LocObjs, HumanSize(row.stats.LocBytes), clock(row.start), clock(end), state)
	}
	return tw.Flush()
}

// snapBuckets names a snapshot's buckets: "ais://a" or "ais://a => ais://b".
func snapBuckets(s *wire.JobSnap) string {
	name := func(b wire.BucketEntry) string {
		if b.Name == "" {
			return ""
		}
		return cluster.Bucket{Provider: cmp.Or(b.Provider, cluster.ProviderAIS), Name: b.Name}.String()
	}
	if s.DstBck.Name != "" {
		return name(s.SrcBck) + " => " + name(s.DstBck)
	}
	return name(s.Bck)
}

func snapState(s *wire.JobSnap) string {
	switch {
	case s.Aborted:
		return "aborted: " + s.AbortErr
	case s.Running():
		return "running"
	case s.Err != "":
		return "finished with errors: " + s.Err
	}
	return "finished"
}

// clock formats a job's time: "15:04:05" today, else the date too; "-"
// for none.
func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.Local()
	if y, m, d := t.Date(); time.Now().Year() == y && time.Now().Month() == m && time.Now().Day() == d {
		return t.Format(time.TimeOnly)
	}
	return t.Format(time.DateTime)
}

// waitFor waits for job id per the --wait, --timeout and --refresh flags
// (always when wait is true) and prints how it ended.
func waitFor(r *runner, c *ucli.Context, id string, wait bool) error {
	if !wait {
		return nil
	}
	ctx := r.ctx
	if d := c.Duration("timeout"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	st, err := r.client.WaitJob(ctx, id, api.WaitOptions{Poll: c.Duration("refresh")})
	if err != nil {
		if errors.Is(err, api.ErrJobAborted) {
			return fmt.Errorf("job %s (%s) was aborted: %s", id, st.Kind, st.Err)
		}
		return err
	}
	var totals wire.JobStats
	if snaps, err := r.client.QueryJobs(r.ctx, api.JobQuery{ID: id}); err == nil {
		totals = api.JobTotals(snaps, id)
	}
	msg := fmt.Sprintf("Job %s (%s) finished: %d objects, %s", id, st.Kind, totals.LocObjs, HumanSize(totals.LocBytes))
	if st.Err != "" {
		msg += "; errors: " + st.Err
	}
	fmt.Fprintln(r.stdout, msg)
	if st.Err != "" {
		return fmt.Errorf("job %s (%s) finished with errors: %s", id, st.Kind, st.Err)
	}
	return nil
}

// jobWait is "ais job wait ID [--timeout D] [--refresh D]".
func jobWait(r *runner, c *ucli.Context) error {
	id := c.Args().First()
	if !isJobID(id) {
		return usagef("%q is not a job ID", id)
	}
	r.setAttrs(attribute.String("ais.job_id", id))
	return waitFor(r, c, id, true)
}

// jobStop is "ais job stop ID|KIND": like AIStore's CLI it looks the job up
// first and does not stop one that has ended.
func jobStop(r *runner, c *ucli.Context) error {
	arg := c.Args().First()
	if kind, ok := jobKinds[arg]; ok {
		if err := r.client.StopJob(r.ctx, "", kind); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Stopped the running %s jobs\n", kind)
		return nil
	}
	if !isJobID(arg) {
		return usagef("%q is neither a job ID nor a job kind", arg)
	}
	r.setAttrs(attribute.String("ais.job_id", arg))
	snaps, err := r.client.QueryJobs(r.ctx, api.JobQuery{ID: arg})
	if err != nil {
		return err
	}
	running, kind := false, ""
	for _, list := range snaps {
		for _, s := range list {
			kind = s.Kind
			running = running || s.Running()
		}
	}
	if !running {
		fmt.Fprintf(r.stdout, "Job %s (%s) has ended, nothing to do\n", arg, kind)
		return nil
	}
	if err := r.client.StopJob(r.ctx, arg, ""); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Stopped job %s (%s)\n", arg, kind)
	return nil
}

// jobStart is "ais job start rebalance" and "ais job start mirror
// --copies N ais://B" (AIStore's make-n-copies: mirror.copies=N and the job
// that puts every object on N mountpaths).
func jobStart(r *runner, c *ucli.Context) error {
	kind := c.Args().First()
	switch kind {
	case wire.KindRebalance:
		if c.NArg() > 1 || c.IsSet("copies") {
			return usagef("%s takes no bucket and no --copies", kind)
		}
		id, err := r.client.StartJob(r.ctx, kind)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Started %s %s\n", kind, id)
		return nil
	case "mirror", wire.KindMakeNCopies:
		if c.NArg() != 2 || !c.IsSet("copies") {
			return usagef("%s needs a bucket and --copies N", kind)
		}
		bck, err := bucketArg(c.Args().Get(1))
		if err != nil {
			return err
		}
		r.setAttrs(attribute.String("ais.bucket", bck.String()))
		id, err := r.client.MakeNCopies(r.ctx, bck, c.Int("copies"))
		if err != nil {
			return err
		}
		r.setAttrs(attribute.String("ais.job_id", id))
		fmt.Fprintf(r.stdout, "Mirroring %s with %d copies: job %s (see 'ais show job %s')\n", bck, c.Int("copies"), id, id)
		return nil
	}
	return usagef("miniais starts %s and mirror jobs only, not %q", wire.KindRebalance, kind)
}

// twoBuckets parses the SRC and DST arguments of "bucket cp|mv".
func twoBuckets(r *runner, c *ucli.Context) (cluster.Bucket, cluster.Bucket, error) {
	src, err := bucketArg(c.Args().Get(0))
	if err != nil {
		return src, src, err
	}
	dst, err := bucketArg(c.Args().Get(1))
	if err != nil {
		return src, dst, err
	}
	if src == dst {
		return src, dst, usagef("%s and %s are the same bucket", src, dst)
	}
	r.setAttrs(attribute.String("ais.bucket", src.String()), attribute.String("ais.bucket_to", dst.String()))
	return src, dst, nil
}

// bucketCopy is "ais bucket cp ais://SRC ais://DST [--prefix P] [--dry-run] [--wait]".
func bucketCopy(r *runner, c *ucli.Context) error {
	src, dst, err := twoBuckets(r, c)
	if err != nil {
		return err
	}
	id, err := r.client.CopyBucket(r.ctx, src, dst, api.CopyBucketOptions{Prefix: c.String("prefix"), DryRun: c.Bool("dry-run")})
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.job_id", id))
	what := "Copying"
	if c.Bool("dry-run") {
		what = "Counting (dry run)"
	}
	fmt.Fprintf(r.stdout, "%s %s => %s: job %s (see 'ais show job %s')\n", what, src, dst, id, id)
	return waitFor(r, c, id, c.Bool("wait"))
}

// bucketMove is "ais bucket mv ais://SRC ais://DST [--wait]".
func bucketMove(r *runner, c *ucli.Context) error {
	src, dst, err := twoBuckets(r, c)
	if err != nil {
		return err
	}
	id, err := r.client.MoveBucket(r.ctx, src, dst)
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.job_id", id))
	fmt.Fprintf(r.stdout, "Renaming %s => %s: job %s (see 'ais show job %s')\n", src, dst, id, id)
	return waitFor(r, c, id, c.Bool("wait"))
}
