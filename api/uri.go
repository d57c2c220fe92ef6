package api

import (
	"strings"

	"miniais/cluster"
)

// ParseBucketURI parses "ais://bucket", "ais://bucket/object/with/slashes"
// or a bare "bucket" (provider ais) into the bucket and the object name
// ("" when the URI names only the bucket). A trailing '/' after the bucket
// is allowed. Other providers, an empty bucket name and a malformed bucket
// name give an error matching cluster.ErrBadName. The object name is
// returned as written; callers validate it with cluster.ValidateObjectName
// when they need one.
func ParseBucketURI(s string) (cluster.Bucket, string, error) {
	provider, rest := cluster.ProviderAIS, s
	if i := strings.Index(s, "://"); i >= 0 {
		provider, rest = s[:i], s[i+len("://"):]
		if provider == "" {
			return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrBadName, "%q: missing provider before \"://\"", s)
		}
		if provider != cluster.ProviderAIS {
			return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrBadName, "%q: unsupported provider %q (only %s:// buckets)", s, provider, cluster.ProviderAIS)
		}
	} else if strings.Contains(s, "/") {
		return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrBadName, "%q: expected ais://BUCKET[/OBJECT] or BUCKET", s)
	}
	name, obj, _ := strings.Cut(rest, "/")
	if name == "" {
		return cluster.Bucket{}, "", cluster.Errorf(cluster.ErrBadName, "%q: empty bucket name", s)
	}
	bck := cluster.Bucket{Provider: provider, Name: name}
	if err := bck.Validate(); err != nil {
		return cluster.Bucket{}, "", err
	}
	return bck, obj, nil
}
