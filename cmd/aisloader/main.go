// Command aisloader generates load on a miniais cluster: workers PUT and GET
// objects of a bucket and it reports ops/s, MiB/s and latency per interval
// and at the end. See package miniais/bench/loader and `aisloader -help`.
//
//	aisloader -bucket ais://bench -duration 30s -numworkers 16 -pctput 100 -minsize 1MiB -maxsize 1MiB
//	aisloader -bucket ais://bench -duration 30s -numworkers 16 -pctput 0 -direct -json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"miniais/api"
	"miniais/bench/loader"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "aisloader:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("aisloader", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var (
		endpoint = fset.String("endpoint", "", "cluster (proxy) URL (default $AIS_ENDPOINT, else "+api.DefaultEndpoint+")")
		bucket   = fset.String("bucket", "ais://aisloader", "bucket, ais://NAME (created when missing)")
		duration = fset.Duration("duration", time.Minute, "how long to run (0: until -maxops)")
		maxOps   = fset.Int64("maxops", 0, "stop after this many operations (0: no limit)")
		workers  = fset.Int("numworkers", 10, "concurrent workers")
		pctPut   = fset.Int("pctput", 0, "percentage of PUTs (0: GETs only, of listed objects)")
		minSize  = fset.String("minsize", "1MiB", "smallest PUT object (e.g. 4KiB)")
		maxSize  = fset.String("maxsize", "1MiB", "largest PUT object")
		cleanup  = fset.Bool("cleanup", false, "delete the objects written at the end")
		seed     = fset.Uint64("seed", 0, "random seed (0: random)")
		prefix   = fset.String("prefix", "", "object name prefix (default "+loader.DefaultPrefix+"<seed>/; GETs list "+loader.DefaultPrefix+")")
		order    = fset.String("getorder", "random", "order of GETs: random or seq")
		verify   = fset.Bool("verify", false, "verify the checksum of every GET")
		interval = fset.Duration("statsinterval", 10*time.Second, "period of the interval reports (0: none)")
		asJSON   = fset.Bool("json", false, "print reports as JSON lines")
		direct   = fset.Bool("direct", false, "route object requests to the owning target (skip the proxy's redirect)")
	)
	if err := fset.Parse(args); err != nil {
		return err
	}
	bck, obj, err := api.ParseBucketURI(*bucket)
	if err != nil || obj != "" {
		return fmt.Errorf("-bucket %q: want ais://NAME (%v)", *bucket, err)
	}
	lo, err := loader.ParseSize(*minSize)
	if err != nil {
		return fmt.Errorf("-minsize: %w", err)
	}
	hi, err := loader.ParseSize(*maxSize)
	if err != nil {
		return fmt.Errorf("-maxsize: %w", err)
	}
	if *endpoint == "" {
		*endpoint = os.Getenv("AIS_ENDPOINT")
	}
	var opts []api.Option
	if *direct {
		opts = append(opts, api.WithDirectRouting())
	}
	rep, err := loader.Run(ctx, loader.Config{
		Client: api.NewClient(*endpoint, opts...), Bucket: bck,
		Duration: *duration, MaxOps: *maxOps, Workers: *workers, PctPut: *pctPut,
		MinSize: lo, MaxSize: hi, Seed: *seed, Prefix: *prefix, GetOrder: *order,
		Verify: *verify, Cleanup: *cleanup, Interval: *interval, Out: stdout, JSON: *asJSON,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, st := range []loader.Stats{rep.Put, rep.Get} {
			if st.Ops > 0 || st.Errors > 0 {
				if err := enc.Encode(st); err != nil {
					return err
				}
			}
		}
		return nil
	}
	fmt.Fprintf(stdout, "--- total (%s, %d workers, %s)\n", bck, *workers, rep.Put.Elapsed.Round(time.Millisecond))
	fmt.Fprint(stdout, rep.String())
	return nil
}
