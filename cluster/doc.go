// Package cluster holds the domain types that every part of miniais shares:
// buckets and object names, nodes, the versioned cluster map, the versioned
// bucket metadata, the versioned cluster configuration (the settings that
// change at run time), HRW placement, and the documented error kinds.
//
// # JSON
//
// The cluster map, the bucket metadata and the bucket properties marshal to
// AIStore's JSON (shared/aistore-clients.md sections 2, 3 and 8): versions
// as strings, node flags with AIStore's bits only, buckets nested by
// provider and namespace. Decoding also accepts the numeric versions and
// the flat bucket map that older miniais nodes wrote. Between miniais
// nodes everything travels as msgpack (types_gen.go).
//
// It has no I/O and no dependencies on the rest of the module; proxy, target,
// fs, transport and api all meet through these types.
package cluster

//go:generate go tool msgp -file=. -o=types_gen.go -tests=false

// Types that never travel as msgpack: JSON-only shapes and the error-kind table.
//msgp:ignore Kind MetaVersion ExtraProps ExtraAWS ExtraGCP ExtraOCI LRUConf RateLimitConf RateLimitSection ChunksConf

// Maps and metadata arrive over the transport: the decoder refuses a map of
// more than 65536 entries (nodes, buckets) and an array or byte string longer
// than 1<<20, so a hostile length never makes it allocate unboundedly.
//msgp:limit arrays:1048576 maps:65536
