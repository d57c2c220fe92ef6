// Package metrics is a node's Prometheus metrics: one registry per node,
// made by New and passed explicitly (there is no package-level registry),
// served at GET /metrics in the Prometheus text format, or OpenMetrics when
// the scraper asks for it (exemplars travel only in OpenMetrics).
//
// # Names
//
// Where AIStore has a metric, the name is AIStore's
// (shared/aistore-clients.md section 11): ais_<role>_get_count,
// ais_target_get_bytes, ais_target_get_ns_total, ais_<role>_put_count,
// ais_target_put_bytes, ais_target_put_ns_total, ais_<role>_del_count,
// ais_<role>_lst_count, ais_<role>_err_get_count (put, del, lst),
// ais_target_err_put_cksum_count, ais_target_stream_in_count/_bytes and
// _out_, ais_<role>_uptime (seconds), ais_<role>_state_flags and
// ais_node_primary_info. Every ais_ series carries node_id; the operation
// counters carry bucket ("ais://B" for a bucket of the cluster's metadata,
// "" otherwise: a name from a stranger's URL never makes a series) and, on
// targets, the PUTs xkind ("" for a client's PUT).
//
// Metrics AIStore does not have use Prometheus' conventions:
//
//	ais_<role>_http_requests_total{route,status}        requests by route (the ServeMux pattern) and status class ("2xx")
//	ais_<role>_http_request_duration_seconds{route}     latency histogram; exemplars carry trace_id of recorded requests
//	ais_<role>_http_received_bytes_total{route}         request body bytes read
//	ais_<role>_http_sent_bytes_total{route}             response body bytes written
//	ais_<role>_errors_total{kind}                       failed requests by error kind (cluster.Kinds' wire name)
//	ais_<role>_transport_messages_total{kind,direction,outcome}
//	ais_<role>_transport_bytes_total{kind,direction}    intra-cluster messages and their payload bytes
//	ais_target_mountpath_objects{mountpath}, _bytes, _capacity_bytes, _avail_bytes
//	ais_<role>_tracing_spans_exported_total, _dropped_total, _tail_kept_total, _tail_overflow_total
//	ais_<role>_tracing_spans_queued, _tail_held
//	ais_target_jobs_running{kind}, ais_target_jobs_ended{kind,outcome}  (ended: those the node still lists)
//
// plus the Go runtime's go_* and the process' process_* series.
//
// # One source for every view
//
// The node_status tracker (Tracker: "get.n", "put.size", "get.ns.total",
// ...) and the what=metrics reply (Kinds) are computed from the same
// collectors that /metrics serves, by AIStore's mapping of names (_count is
// .n, _bytes is .size, _ns_total is .ns.total), so that "ais show
// performance" and a Prometheus graph agree.
package metrics
