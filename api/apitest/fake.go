// Package apitest provides an in-memory fake of a miniais cluster for unit
// tests of HTTP clients (the api package, the CLI): one proxy and one target,
// each an httptest.Server, speaking the v1 API closely enough to exercise
// redirects, listings, ranges, checksums and errors.
//
// It is a test double, not a reference implementation: it keeps objects in
// memory and has a single target.
package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/OneOfOne/xxhash"
	"github.com/tinylib/msgp/msgp"

	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
)

// Cluster is a fake cluster. Its fields may be set before the first request.
type Cluster struct {
	// Proxy and Target are the two servers; clients talk to Proxy.URL.
	Proxy, Target *httptest.Server
	// ProxyReadsBody makes the proxy read a PUT's body before redirecting,
	// like a server that ignores "Expect: 100-continue".
	ProxyReadsBody bool

	mu            sync.Mutex
	buckets       map[string]map[string]*object // bucket -> object name -> object
	proxyPutBytes int64
	requests      []string // "METHOD path" as the target saw them
}

type object struct {
	data    []byte
	version int
	mtime   time.Time
}

// New starts a fake cluster and stops it when the test ends.
func New(tb testing.TB) *Cluster {
	tb.Helper()
	c := &Cluster{buckets: map[string]map[string]*object{}}
	c.Target = httptest.NewServer(http.HandlerFunc(c.serveTarget))
	c.Proxy = httptest.NewServer(http.HandlerFunc(c.serveProxy))
	tb.Cleanup(c.Proxy.Close)
	tb.Cleanup(c.Target.Close)
	return c
}

// URL returns the proxy's endpoint.
func (c *Cluster) URL() string { return c.Proxy.URL }

// ProxyPutBytes returns how many body bytes of PUTs the proxy received.
func (c *Cluster) ProxyPutBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proxyPutBytes
}

// Object returns the content of an object and whether it exists.
func (c *Cluster) Object(bucket, name string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.buckets[bucket][name]
	if !ok {
		return nil, false
	}
	return slices.Clone(o.data), true
}

// Checksum returns the xxhash2 checksum of data as miniais spells it.
func Checksum(data []byte) string { return fmt.Sprintf("%016x", xxhash.Checksum64(data)) }

func (c *Cluster) fail(w http.ResponseWriter, r *http.Request, err error) {
	server.WriteError(w, r, "fake", err)
}

func (c *Cluster) serveProxy(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == wire.PathHealth:
		w.WriteHeader(http.StatusOK)
	case p == wire.PathDaemon && r.URL.Query().Get(wire.QparamWhat) == wire.WhatSmap:
		px := cluster.NewNode("p1", cluster.RoleProxy, c.Proxy.Listener.Addr().String(), "127.0.0.1:9080")
		m := cluster.NewMap("fake-uuid", px)
		m.Targets["t1"] = cluster.NewNode("t1", cluster.RoleTarget, c.Target.Listener.Addr().String(), "127.0.0.1:9081")
		m.Version = 3
		writeJSON(w, m)
	case p == wire.PathBuckets || strings.HasPrefix(p, wire.PathBuckets+"/"):
		c.serveBuckets(w, r, strings.TrimPrefix(strings.TrimPrefix(p, wire.PathBuckets), "/"))
	case strings.HasPrefix(p, wire.PathObjects+"/"):
		if r.Method == http.MethodPut && c.ProxyReadsBody {
			n, _ := io.Copy(io.Discard, r.Body)
			c.mu.Lock()
			c.proxyPutBytes += n
			c.mu.Unlock()
		}
		q := r.URL.Query()
		q.Set(wire.QparamProxyID, "p1")
		q.Set(wire.QparamUnixTime, strconv.FormatInt(time.Now().UnixNano(), 36))
		loc := c.Target.URL + r.URL.EscapedPath() + "?" + q.Encode()
		http.Redirect(w, r, loc, http.StatusTemporaryRedirect)
	default:
		c.fail(w, r, cluster.Errorf(cluster.ErrBadRequest, "unknown path %q", p))
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", wire.ContentJSON)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *Cluster) serveBuckets(w http.ResponseWriter, r *http.Request, name string) {
	var msg wire.ActionMsg
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, &msg); err != nil {
				c.fail(w, r, cluster.Errorf(cluster.ErrBadRequest, "bad action message: %v", err))
				return
			}
		}
	}
	if name != "" {
		if err := cluster.NewBucket(name).Validate(); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	objs, exists := c.buckets[name]
	switch {
	case r.Method == http.MethodGet && name == "":
		out := []wire.BucketEntry{}
		for n := range c.buckets {
			out = append(out, wire.BucketEntry{Name: n, Provider: cluster.ProviderAIS})
		}
		slices.SortFunc(out, func(a, b wire.BucketEntry) int { return strings.Compare(a.Name, b.Name) })
		writeJSON(w, out)
	case r.Method == http.MethodPost && msg.Action == wire.ActCreateBck:
		if exists {
			c.fail(w, r, cluster.Errorf(cluster.ErrExists, "bucket %q", name))
			return
		}
		c.buckets[name] = map[string]*object{}
	case !exists:
		c.fail(w, r, cluster.Errorf(cluster.ErrNotFound, "bucket \"ais://%s\"", name))
	case r.Method == http.MethodDelete && msg.Action == wire.ActDestroyBck:
		delete(c.buckets, name)
	case r.Method == http.MethodHead:
		props, _ := json.Marshal(cluster.DefaultBucketProps(1, time.Unix(0, 0)))
		w.Header().Set(wire.HdrBucketProps, string(props))
	case r.Method == http.MethodGet:
		c.list(w, r, objs, msg)
	default:
		c.fail(w, r, cluster.Errorf(cluster.ErrBadRequest, "%s %q with action %q", r.Method, name, msg.Action))
	}
}

// list pages objs by name; the continuation token is the last name sent.
func (c *Cluster) list(w http.ResponseWriter, r *http.Request, objs map[string]*object, msg wire.ActionMsg) {
	var lm wire.ListObjsMsg
	if len(msg.Value) > 0 {
		if err := json.Unmarshal(msg.Value, &lm); err != nil {
			c.fail(w, r, cluster.Errorf(cluster.ErrBadRequest, "bad list message: %v", err))
			return
		}
	}
	names := make([]string, 0, len(objs))
	for n := range objs {
		if strings.HasPrefix(n, lm.Prefix) && n > lm.ContinuationToken {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	res := &wire.LsoResult{Entries: []*wire.LsoEntry{}}
	if lm.PageSize > 0 && int64(len(names)) > lm.PageSize {
		names = names[:lm.PageSize]
		res.ContinuationToken = names[len(names)-1]
	}
	for _, n := range names {
		o := objs[n]
		res.Entries = append(res.Entries, &wire.LsoEntry{
			Name: n, Size: int64(len(o.data)), Checksum: Checksum(o.data),
			Version: strconv.Itoa(o.version), Atime: o.mtime.Format(time.RFC3339Nano),
		})
	}
	if r.Header.Get("Accept") == wire.ContentMsgpack {
		w.Header().Set("Content-Type", wire.ContentMsgpack)
		_ = msgp.Encode(w, res)
		return
	}
	writeJSON(w, res)
}

func (c *Cluster) serveTarget(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	rest, ok := strings.CutPrefix(r.URL.Path, wire.PathObjects+"/")
	if !ok {
		c.fail(w, r, cluster.Errorf(cluster.ErrBadRequest, "unknown path %q", r.URL.Path))
		return
	}
	bucket, name, _ := strings.Cut(rest, "/")
	if err := cluster.ValidateObjectName(name); err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	if (r.Method == http.MethodPut || r.Method == http.MethodDelete) && q.Get(wire.QparamProxyID) == "" {
		c.fail(w, r, cluster.Errorf(cluster.ErrBadRequest, "%s %s: expected to be redirected", r.Method, r.URL.Path))
		return
	}
	if r.Method == http.MethodPut {
		c.put(w, r, bucket, name)
		return
	}
	c.mu.Lock()
	objs, ok := c.buckets[bucket]
	o := objs[name]
	if r.Method == http.MethodDelete && o != nil {
		delete(objs, name)
	}
	c.mu.Unlock()
	switch {
	case !ok:
		c.fail(w, r, cluster.Errorf(cluster.ErrNotFound, "bucket \"ais://%s\"", bucket))
		return
	case o == nil:
		c.fail(w, r, cluster.Errorf(cluster.ErrNotFound, "object \"ais://%s/%s\"", bucket, name))
		return
	case r.Method == http.MethodDelete:
		return
	}
	h := w.Header()
	setAttrs(h, o)
	if r.Method == http.MethodHead {
		h.Set(wire.HdrName, name)
		h.Set(wire.HdrBucketName, bucket)
		h.Set(wire.HdrBucketProvider, cluster.ProviderAIS)
		h.Set(wire.HdrPresent, "true")
		h.Set(wire.HdrLocation, "t[t1]:mp[/fake]")
		h.Set("Content-Length", strconv.Itoa(len(o.data)))
		return
	}
	http.ServeContent(w, r, "", o.mtime, strings.NewReader(string(o.data)))
}

func setAttrs(h http.Header, o *object) {
	h.Set(wire.HdrChecksumType, cluster.ChecksumXXHash2)
	h.Set(wire.HdrChecksumValue, Checksum(o.data))
	h.Set(wire.HdrVersion, strconv.Itoa(o.version))
	h.Set(wire.HdrAtime, o.mtime.Format(time.RFC3339Nano))
}

func (c *Cluster) put(w http.ResponseWriter, r *http.Request, bucket, name string) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		c.fail(w, r, fmt.Errorf("read body: %w", err))
		return
	}
	if v := r.Header.Get(wire.HdrChecksumValue); v != "" && v != Checksum(data) {
		c.fail(w, r, cluster.Errorf(cluster.ErrChecksum, "PUT %s: content has %s", name, Checksum(data)))
		return
	}
	c.mu.Lock()
	objs, ok := c.buckets[bucket]
	var o *object
	if ok {
		ver := 1
		if old := objs[name]; old != nil {
			ver = old.version + 1
		}
		o = &object{data: data, version: ver, mtime: time.Now()}
		objs[name] = o
	}
	c.mu.Unlock()
	if !ok {
		c.fail(w, r, cluster.Errorf(cluster.ErrNotFound, "bucket \"ais://%s\"", bucket))
		return
	}
	setAttrs(w.Header(), o)
}

// Requests returns "METHOD /path" of every request the target received.
func (c *Cluster) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}
