// Package cluster holds the domain types that every part of miniais shares:
// buckets and object names, nodes, the versioned cluster map, the versioned
// bucket metadata, HRW placement, and the documented error kinds.
//
// It has no I/O and no dependencies on the rest of the module; proxy, target,
// fs, transport and api all meet through these types.
package cluster

//go:generate go tool msgp -file=. -o=types_gen.go -tests=false

// Maps and metadata arrive over the transport: the decoder refuses a map of
// more than 65536 entries (nodes, buckets) and an array or byte string longer
// than 1<<20, so a hostile length never makes it allocate unboundedly.
//msgp:limit arrays:1048576 maps:65536
