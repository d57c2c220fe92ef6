package cluster

import (
	"fmt"
	"strconv"
)

// Versions are the cluster map and bucket metadata versions a target holds.
// Targets send them with every keepalive; a proxy that sees them lag pushes
// the newer versions, so a target that missed a push catches up.
type Versions struct {
	Smap int64 `msg:"s"`
	BMD  int64 `msg:"b"`
	// Config is the version of the cluster configuration (0 from a target
	// that predates it).
	Config int64 `msg:"c"`
}

// MetaVersion is a metadata version (cluster map, bucket metadata, cluster
// config) in JSON: it is written as a string, as AIStore writes it ("13"),
// and read from either a string or a number (older miniais wrote numbers).
type MetaVersion int64

// MarshalJSON writes the version as a JSON string.
func (v MetaVersion) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(v), 10)), nil
}

// UnmarshalJSON reads a JSON string holding an integer, a JSON integer, or
// null (which leaves v unchanged).
func (v *MetaVersion) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("version %s is not an integer", b)
	}
	*v = MetaVersion(n)
	return nil
}
