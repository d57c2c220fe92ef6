package cluster

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The sections of AIStore's bucket properties that stand for features
// miniais does not have. None carries anything over msgpack; each marshals
// to AIStore's "off" value, and its UnmarshalJSON refuses JSON that turns
// the feature on with an error wrapping ErrNotImplemented (so that
// set-bprops cannot store a setting that would have no effect).

// BIDAIS is the bit of a bucket ID that marks an ais bucket (AIStore's
// top bit; remote buckets have it clear).
const BIDAIS uint64 = 1 << 63

// AISBucketID returns the ID AIStore gives an ais bucket created in bucket
// metadata version bmdVersion: the version with BIDAIS set.
func AISBucketID(bmdVersion int64) uint64 { return uint64(bmdVersion) | BIDAIS }

// ExtraProps are AIStore's provider-specific properties (of cloud buckets);
// ais buckets have none, so each section is an empty object.
type ExtraProps struct {
	AWS ExtraAWS `json:"aws"`
	GCP ExtraGCP `json:"gcp"`
	OCI ExtraOCI `json:"oci"`
}

// ExtraAWS is AIStore's extra.aws section: empty for ais buckets.
type ExtraAWS struct{}

// ExtraGCP is AIStore's extra.gcp section: empty for ais buckets.
type ExtraGCP struct{}

// ExtraOCI is AIStore's extra.oci section: empty for ais buckets.
type ExtraOCI struct{}

// LRUConf is AIStore's LRU eviction; miniais never evicts objects.
type LRUConf struct {
	// Enabled is always false.
	Enabled bool `json:"enabled"`
}

// UnmarshalJSON refuses "enabled": true.
func (c *LRUConf) UnmarshalJSON(b []byte) error {
	var v struct {
		Enabled bool `json:"enabled"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Enabled {
		return Errorf(ErrNotImplemented, "lru eviction (lru.enabled) is not implemented")
	}
	return nil
}

// RateLimitConf is AIStore's rate limiting of backend and frontend
// requests; miniais limits only concurrency (see the nodes' MaxConcurrent).
type RateLimitConf struct {
	Backend  RateLimitSection `json:"backend"`
	Frontend RateLimitSection `json:"frontend"`
}

// RateLimitSection is one side of RateLimitConf.
type RateLimitSection struct {
	// Enabled is always false.
	Enabled bool `json:"enabled"`
}

// UnmarshalJSON refuses "enabled": true.
func (c *RateLimitSection) UnmarshalJSON(b []byte) error {
	var v struct {
		Enabled bool `json:"enabled"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Enabled {
		return Errorf(ErrNotImplemented, "rate limiting (rate_limit.*.enabled) is not implemented")
	}
	return nil
}

// ChunksConf is AIStore's automatic chunking of large objects; miniais
// stores every object whole.
type ChunksConf struct{}

// MarshalJSON writes auto-chunking off: {"objsize_limit":"0B"}.
func (ChunksConf) MarshalJSON() ([]byte, error) { return []byte(`{"objsize_limit":"0B"}`), nil }

// UnmarshalJSON refuses an objsize_limit other than zero.
func (c *ChunksConf) UnmarshalJSON(b []byte) error {
	var v struct {
		ObjSizeLimit string `json:"objsize_limit"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v.ObjSizeLimit), "B"), 64); v.ObjSizeLimit != "" && (err != nil || n != 0) {
		return Errorf(ErrNotImplemented, "chunks.objsize_limit %q: chunking is not implemented", v.ObjSizeLimit)
	}
	return nil
}

// NamespaceGlobal is AIStore's global bucket namespace, the only one of
// miniais, as the bucket metadata JSON writes it.
const NamespaceGlobal = "@#"

// bmdJSON is the JSON shape of a BMD: provider -> namespace -> bucket name
// -> properties.
type bmdJSON struct {
	Providers map[string]map[string]map[string]*BucketProps `json:"providers"`
	UUID      string                                        `json:"uuid"`
	Version   MetaVersion                                   `json:"version"`
	// Buckets is the shape older miniais wrote: name -> properties.
	Buckets map[string]*BucketProps `json:"buckets,omitempty"`
}

// MarshalJSON writes AIStore's BMD JSON:
// {"providers":{"ais":{"@#":{"b1":{props},...}}},"uuid":"...","version":"2"}.
func (b *BMD) MarshalJSON() ([]byte, error) {
	out := bmdJSON{UUID: b.UUID, Version: MetaVersion(b.Version), Providers: map[string]map[string]map[string]*BucketProps{}}
	for name, props := range b.Buckets {
		prov := props.Provider
		if prov == "" {
			prov = ProviderAIS
		}
		if out.Providers[prov] == nil {
			out.Providers[prov] = map[string]map[string]*BucketProps{NamespaceGlobal: {}}
		}
		out.Providers[prov][NamespaceGlobal][name] = props
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads AIStore's BMD JSON (see MarshalJSON), or the shape
// older miniais wrote ({"buckets":{name:props},"version":N}); the version
// may be a string or a number. Buckets of another provider or namespace
// are refused: miniais has only ais buckets in the global namespace.
func (b *BMD) UnmarshalJSON(data []byte) error {
	var in bmdJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	buckets := in.Buckets
	if buckets == nil {
		buckets = map[string]*BucketProps{}
	}
	for prov, nss := range in.Providers {
		for ns, bcks := range nss {
			if prov != ProviderAIS || ns != NamespaceGlobal {
				if len(bcks) == 0 {
					continue
				}
				return fmt.Errorf("bucket metadata: provider %q namespace %q: only %s buckets in %q are supported", prov, ns, ProviderAIS, NamespaceGlobal)
			}
			for name, props := range bcks {
				buckets[name] = props
			}
		}
	}
	*b = BMD{Version: int64(in.Version), UUID: in.UUID, Buckets: buckets}
	return nil
}
