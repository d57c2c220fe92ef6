// Command benchmatrix runs miniais's benchmark matrix (package
// miniais/bench/matrix); `make bench` builds the binaries it needs and runs
// it through bench/bench.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"miniais/bench/loader"
	"miniais/bench/matrix"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchmatrix:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("benchmatrix", flag.ContinueOnError)
	var cfg matrix.Config
	fset.StringVar(&cfg.BinDir, "bin", "bin", "directory of aisnode, aisnode-notracing and refserver")
	fset.StringVar(&cfg.TempDir, "tmp", "", "parent of the work directory (default $TMPDIR)")
	fset.StringVar(&cfg.JaegerBin, "jaeger", "", "Jaeger all-in-one binary (for the trace rows)")
	fset.DurationVar(&cfg.Duration, "duration", 3*time.Second, "length of each cell")
	fset.DurationVar(&cfg.Warmup, "warmup", 500*time.Millisecond, "start of each cell left out of the figures")
	fset.DurationVar(&cfg.Cooldown, "cooldown", 500*time.Millisecond, "end of each cell left out of the figures")
	fset.IntVar(&cfg.Repeats, "repeats", 3, "measurements of every cell, interleaved across the rows")
	fset.IntVar(&cfg.Workers, "numworkers", 16, "concurrent requests")
	fset.StringVar(&cfg.Fsync, "fsync", "never", "durability policy of every system but the durable row's: always or never")
	fset.StringVar(&cfg.ProfileDir, "profile", "", "directory for CPU profiles of the nodes, per cell")
	fset.StringVar(&cfg.JSONOut, "json", "", "file to write the results to as JSON")
	fset.BoolVar(&cfg.Memory, "mem", true, "measure RSS (idle and peak per node; with 16MiB in -sizes, under 64 GETs of 16 MiB)")
	rows := fset.String("rows", strings.Join(matrix.DefaultRows, ","),
		"comma-separated rows, in the order of the first repeat (ref,proxy,direct,durable,trace1,trace001,tail001,notracing,nometrics)")
	sizes := fset.String("sizes", "4KiB,64KiB,1MiB", "comma-separated object sizes")
	if err := fset.Parse(args); err != nil {
		return err
	}
	cfg.Rows = strings.Split(*rows, ",")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := loader.ParseSize(s)
		if err != nil {
			return err
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	cfg.Out = os.Stdout
	_, err := matrix.Run(ctx, cfg)
	return err
}
