package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Map is the versioned cluster map ("smap"): the proxy and every target. Its
// JSON matches what AIStore's GET /v1/daemon?what=smap returns.
//
// A Map is immutable once published: to change it, Clone it, modify the
// clone, bump Version, and publish the clone. Methods are then safe for
// concurrent use.
//
// In JSON the version is a string (as AIStore sends it); decoding also
// accepts a number, which older miniais nodes and files carry.
type Map struct {
	Proxies map[string]*Node `json:"pmap" msg:"pmap"`
	Targets map[string]*Node `json:"tmap" msg:"tmap"`
	Primary *Node            `json:"proxy_si" msg:"proxy"`
	Version int64            `json:"version,string" msg:"v"`
	UUID    string           `json:"uuid" msg:"uuid"`
	// CreationTime is when the cluster (its first map) was created, in
	// AIStore's form "2006-01-02 15:04:05" (CreationTimeLayout).
	CreationTime string `json:"creation_time" msg:"ct"`

	idx atomic.Pointer[targetIndex] `msg:"-"`
}

// targetIndex caches the targets in ID order and, for Owner (which then
// does not allocate), the targets that take part in placement (not in
// maintenance) with their digests.
type targetIndex struct {
	nodes   []*Node
	placed  []*Node
	digests []uint64
}

// CreationTimeLayout is the time layout of Map.CreationTime.
const CreationTimeLayout = "2006-01-02 15:04:05"

// NewMap returns an empty map at version 0 with the given primary proxy,
// created now.
func NewMap(uuid string, primary *Node) *Map {
	m := &Map{Proxies: map[string]*Node{}, Targets: map[string]*Node{}, Primary: primary, UUID: uuid,
		CreationTime: time.Now().Format(CreationTimeLayout)}
	if primary != nil {
		m.Proxies[primary.ID] = primary
	}
	return m
}

// Clone returns a deep copy of m.
func (m *Map) Clone() *Map {
	c := &Map{Version: m.Version, UUID: m.UUID, CreationTime: m.CreationTime, Proxies: make(map[string]*Node, len(m.Proxies)), Targets: make(map[string]*Node, len(m.Targets))}
	for id, n := range m.Proxies {
		c.Proxies[id] = n.Clone()
	}
	for id, n := range m.Targets {
		c.Targets[id] = n.Clone()
	}
	if m.Primary != nil {
		c.Primary = m.Primary.Clone()
	}
	return c
}

// TargetList returns the targets sorted by ID. The caller must not modify it.
func (m *Map) TargetList() []*Node { return m.index().nodes }

// ActiveTargets returns the targets not flagged down, sorted by ID.
func (m *Map) ActiveTargets() []*Node {
	var out []*Node
	for _, n := range m.index().nodes {
		if !n.Down() {
			out = append(out, n)
		}
	}
	return out
}

// PlacementTargets returns the targets that take part in placement (not in
// maintenance), sorted by ID. The caller must not modify it.
func (m *Map) PlacementTargets() []*Node { return m.index().placed }

// Node returns the node with the given ID, proxy or target, or nil.
func (m *Map) Node(id string) *Node {
	if n := m.Targets[id]; n != nil {
		return n
	}
	return m.Proxies[id]
}

// Owner returns the target that HRW places the object with unique name uname
// on, among the targets not in maintenance (Node.InMaintenance): a target in
// maintenance owns nothing, so new writes go elsewhere and a rebalance moves
// what it holds. Down targets take part in placement, so that an object
// never moves because its owner is briefly away: if the owner is down, Owner
// returns it together with an ErrUnavailable error. With no target in
// placement it returns ErrUnavailable. It does not allocate on success.
func (m *Map) Owner(uname string) (*Node, error) {
	ix := m.index()
	i := HRW(Digest(uname), ix.digests)
	if i < 0 {
		return nil, Errorf(ErrUnavailable, "no targets in placement in the cluster map (version %d)", m.Version)
	}
	n := ix.placed[i]
	if n.Down() {
		return n, Errorf(ErrUnavailable, "target %s that owns %q is down", n.ID, uname)
	}
	return n, nil
}

func (m *Map) index() *targetIndex {
	if ix := m.idx.Load(); ix != nil {
		return ix
	}
	ix := &targetIndex{}
	for _, n := range m.Targets {
		ix.nodes = append(ix.nodes, n)
	}
	slices.SortFunc(ix.nodes, func(a, b *Node) int { return strings.Compare(a.ID, b.ID) })
	for _, n := range ix.nodes {
		if !n.InMaintenance() {
			ix.placed = append(ix.placed, n)
			ix.digests = append(ix.digests, Digest(n.ID))
		}
	}
	m.idx.Store(ix)
	return ix
}

// UnmarshalJSON decodes AIStore's smap JSON; the version may be a string
// (AIStore, miniais) or a number (older miniais).
func (m *Map) UnmarshalJSON(b []byte) error {
	type plain Map // without the method, so that decoding does not recurse
	aux := struct {
		*plain
		Version MetaVersion `json:"version"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	m.Version = int64(aux.Version)
	m.idx.Store(nil)
	return nil
}
