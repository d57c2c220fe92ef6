// Package job is miniais's small job engine (AIStore's "xactions"): the
// state of one job on one node, a bounded registry of jobs, AIStore's job
// IDs, its object-name templates, and the pacing that keeps a job from
// slowing down foreground requests. It knows nothing of HTTP or the
// transport: the proxy and the target drive jobs through it (proxy/jobs.go,
// target/jobs.go) and meet only through Spec and the wire types.
//
// # States
//
// A Job is created running and ends exactly once, either finished or
// aborted:
//
//	running --Finish(nil)--> finished
//	running --Finish(err)--> finished, with err recorded (some work failed)
//	running --Abort(err)---> aborted, with err as the reason
//
// Ending cancels the job's context (the work stops); later calls of Finish
// and Abort change nothing and report false. Counters (Stats) may still be
// added to after the end by work that was in flight.
//
// # IDs
//
// AIStore's clients check job IDs before they send them: 9 to 32 characters
// of [A-Za-z0-9_-], with neither '-' nor '_' at either end (NewID, ValidID).
// A rebalance is named after the cluster map version that started it,
// "g<version>" (RebalanceID), so that every target gives it the same ID
// without asking anyone.
//
// # Registry
//
// A Registry holds a node's jobs by ID. Running jobs stay until they end;
// ended ones are kept for a bounded time (Registry.TTL) and count
// (Registry.MaxEnded), the oldest dropped first, so that "ais show job" and
// "ais job wait" find a job that has just finished.
//
// # Templates
//
// A multi-object job names its objects by a list or by AIStore's template
// (ParseTemplate): a prefix followed by ranges in bash style
// ("shard-{0001..1000}.tar", "a{0..10..2}b{1..3}"), at style ("ck@3", 0 to 3)
// or fmt style ("img-%04d.jpg"), or no range at all, in which case it is a
// prefix. Jobs do not expand templates: they walk the bucket under the
// template's prefix, page by page, and keep the names that Match.
package job
