package cluster

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the versioned cluster configuration: the settings that the
// primary proxy owns, persists and pushes to every target (like the BMD),
// and that every node applies at run time, without a restart. It holds only
// what can change at run time; everything else a node runs with comes from
// its own start-up configuration. Like Map, a published Config is
// immutable: copy it, modify the copy, bump Version.
type Config struct {
	Version int64  `msg:"v"`
	UUID    string `msg:"uuid"`
	// LastUpdated is when this version was made, in Unix nanoseconds.
	LastUpdated int64 `msg:"t"`
	// Tracing overrides the nodes' start-up tracing settings.
	Tracing TracingConfig `msg:"tr"`
	// Checksum holds the defaults of new buckets' checksum properties.
	Checksum ChecksumDefaults `msg:"ck"`
	// Timeout holds the membership timeouts.
	Timeout TimeoutConfig `msg:"to"`
}

// TimeoutConfig holds the membership timeouts (AIStore's timeout section
// has no such key: this one is miniais's own).
type TimeoutConfig struct {
	// RemoveDownAfter is how long a target must have been down (silent)
	// before an operator may remove it from the cluster map without
	// forcing it, in nanoseconds; nil means DefaultRemoveDownAfter.
	RemoveDownAfter *int64 `msg:"rda"`
}

// DefaultRemoveDownAfter is TimeoutConfig.RemoveDownAfter when unset.
const DefaultRemoveDownAfter = 5 * time.Minute

// RemoveDownAfter returns how long a target must have been down before it
// may be removed without force (c may be nil).
func (c *Config) RemoveDownAfter() time.Duration {
	if c == nil || c.Timeout.RemoveDownAfter == nil {
		return DefaultRemoveDownAfter
	}
	return time.Duration(*c.Timeout.RemoveDownAfter)
}

// TracingConfig is the run-time part of the tracing configuration. A nil
// field leaves each node with the value it started with.
type TracingConfig struct {
	Enabled            *bool    `msg:"e"`
	SamplerProbability *float64 `msg:"p"`
}

// ChecksumDefaults are the cluster-wide defaults that new buckets inherit
// (AIStore's cluster checksum section); existing buckets keep their own. A
// nil field keeps DefaultBucketProps' value.
type ChecksumDefaults struct {
	ValidateWarmGet *bool `msg:"vw"`
}

// The configuration keys that set-config accepts, as AIStore's CLI names
// them (section.field).
const (
	// KeyTracingEnabled turns sampling off or on again ("true"/"false").
	KeyTracingEnabled = "tracing.enabled"
	// KeyTracingSamplerProbability sets the ratio of root spans sampled,
	// a number in [0,1].
	KeyTracingSamplerProbability = "tracing.sampler_probability"
	// KeyTracingSamplerProbablity is the same key as AIStore spells it in
	// places ("probablity").
	KeyTracingSamplerProbablity = "tracing.sampler_probablity"
	// KeyChecksumValidateWarmGet sets whether new buckets validate stored
	// objects on GET ("true"/"false").
	KeyChecksumValidateWarmGet = "checksum.validate_warm_get"
	// KeyTimeoutRemoveDownAfter sets how long a target must have been down
	// before it may be removed from the map without force (a Go duration,
	// e.g. "10m"; miniais's own key).
	KeyTimeoutRemoveDownAfter = "timeout.remove_down_after"
)

// configKeys are the keys With accepts, each with the function that sets
// it from its text form.
var configKeys = map[string]func(c *Config, key, value string) error{
	KeyTracingEnabled: func(c *Config, k, v string) error {
		b, err := parseBool(k, v)
		c.Tracing.Enabled = b
		return err
	},
	KeyTracingSamplerProbability: setProbability,
	KeyTracingSamplerProbablity:  setProbability,
	KeyChecksumValidateWarmGet: func(c *Config, k, v string) error {
		b, err := parseBool(k, v)
		c.Checksum.ValidateWarmGet = b
		return err
	},
	KeyTimeoutRemoveDownAfter: func(c *Config, k, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Errorf(ErrBadRequest, "set-config: %s=%q is not a non-negative duration", k, v)
		}
		n := int64(d)
		c.Timeout.RemoveDownAfter = &n
		return nil
	},
}

func parseBool(k, v string) (*bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, Errorf(ErrBadRequest, "set-config: %s=%q is not a boolean", k, v)
	}
	return &b, nil
}

func setProbability(c *Config, k, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return Errorf(ErrBadRequest, "set-config: %s=%q is not a probability in [0,1]", k, v)
	}
	c.Tracing.SamplerProbability = &f
	return nil
}

// ConfigKeys returns the keys that With accepts, sorted.
func ConfigKeys() []string {
	keys := make([]string, 0, len(configKeys))
	for k := range configKeys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// With returns a copy of c with the settings of kvs (key -> text value)
// applied; the Version and LastUpdated of the copy are c's. Keys are
// case-insensitive. It fails, returning c, when any key is one miniais
// cannot set (ErrNotImplemented, naming the key; checked before any value),
// when a value is malformed or out of range (ErrBadRequest), or when kvs is
// empty (ErrBadRequest).
func (c Config) With(kvs map[string]string) (Config, error) {
	if len(kvs) == 0 {
		return c, Errorf(ErrBadRequest, "set-config: no properties to update")
	}
	keys := make([]string, 0, len(kvs))
	for k := range kvs {
		keys = append(keys, k)
	}
	slices.Sort(keys) // for deterministic errors
	// An unknown key is refused before any value is looked at.
	for _, k := range keys {
		if configKeys[strings.ToLower(k)] == nil {
			return c, Errorf(ErrNotImplemented, "set-config: key %q cannot be set in miniais (only %s)", k, strings.Join(ConfigKeys(), ", "))
		}
	}
	next := c
	for _, k := range keys {
		if err := configKeys[strings.ToLower(k)](&next, k, strings.TrimSpace(kvs[k])); err != nil {
			return c, err
		}
	}
	return next, nil
}

// BucketProps returns the properties of a new ais bucket created now with
// bucket ID bid: DefaultBucketProps with the cluster's defaults (Checksum)
// applied. A nil c gives DefaultBucketProps.
func (c *Config) BucketProps(bid uint64, now time.Time) *BucketProps {
	p := DefaultBucketProps(bid, now)
	if c != nil && c.Checksum.ValidateWarmGet != nil {
		p.Checksum.ValidateWarmGet = *c.Checksum.ValidateWarmGet
	}
	return p
}
