package cluster

// Versions are the cluster map and bucket metadata versions a target holds.
// Targets send them with every keepalive; a proxy that sees them lag pushes
// the newer versions, so a target that missed a push catches up.
type Versions struct {
	Smap int64 `msg:"s"`
	BMD  int64 `msg:"b"`
}
