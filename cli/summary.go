package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/cluster"
)

// storageSummary is "ais storage summary ais://B[/PREFIX] [--prefix P]".
func storageSummary(r *runner, c *ucli.Context) error {
	bck, prefix, err := api.ParseBucketURI(c.Args().First())
	if err != nil {
		return &usageError{err}
	}
	prefix += c.String("prefix")
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	return printSummary(r, bck, prefix)
}

// printSummary runs a bucket summary (a job the client polls until it is
// done) and prints one row per bucket summarized, as AIStore does:
// NAME OBJECTS SIZE ON DISK USAGE(%).
func printSummary(r *runner, bck cluster.Bucket, prefix string) error {
	res, err := r.client.BucketSummary(r.ctx, bck, api.SummaryOptions{Prefix: prefix})
	if err != nil {
		return err
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "NAME\tOBJECTS\tSIZE ON DISK\tUSAGE(%)")
	for _, s := range res {
		prov := s.Provider
		if prov == "" {
			prov = cluster.ProviderAIS
		}
		name := cluster.Bucket{Provider: prov, Name: s.Name}.String()
		if prefix != "" {
			name += "/" + prefix
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d%%\n", name, s.ObjCount.Present, HumanSize(int64(s.TotalSize.OnDisk)), s.UsedPct)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range res {
		warnIncomplete(r.stderr, "summary of "+bck.String(), s.Incomplete)
	}
	return nil
}
