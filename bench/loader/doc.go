// Package loader is miniais's load generator, in the spirit of AIStore's
// aisloader: a number of workers PUT and GET objects of a bucket for a
// while, through the api client, and report throughput and latency per
// interval and at the end. cmd/aisloader is its command line; the benchmark
// matrix (bench/matrix) runs it in-process.
//
// # Workload
//
// Each worker loops until the duration is over (or MaxOps operations are
// done): with probability PctPut it PUTs a new object of a random size in
// [MinSize, MaxSize] (the body is a slice of one random buffer made once
// from Seed, so generating data costs nothing), otherwise it GETs one of
// the objects known to the run, at random or in order (GetOrder). Known
// objects are those given in Config.Names, those listed from the bucket at
// start (when PctPut < 100), and those written by the run. GETs read the
// whole body into io.Discard; Verify also checks the xxhash2 checksum.
//
// # Report
//
// Every Interval a line per operation kind shows the interval's ops/s,
// MiB/s, latency min/avg/p50/p90/p99/max and errors; the final Report has
// the same for the whole run. JSON prints both as JSON lines. A Progress
// counts the successful operations as they complete, for a caller that
// measures a window of the run (the benchmark matrix). Latencies are
// kept in a log-linear Histogram (constant memory, quantiles within about
// 1.6%).
package loader
