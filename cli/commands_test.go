package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/internal/nodetest"
)

// sent is one request as the recorder received it: the query is as
// encoded on the wire (url.Values sorts it), the body verbatim.
type sent struct {
	Method, Path, Query, Body string
}

func (s sent) String() string {
	out := s.Method + " " + s.Path
	if s.Query != "" {
		out += "?" + s.Query
	}
	if s.Body != "" {
		out += " " + s.Body
	}
	return out
}

// recorder is an httptest server the CLI talks to: it records every
// request exactly as the CLI sent it, and the start of every reply, and
// hands the request on to next. next is the real proxy of an in-process
// cluster (newRecordedCluster: redirects to targets pass through, so the
// recorder sees what the CLI sends to the proxy), or scripted replies for
// what a real miniais never answers (newScripted). It is a recorder, not a
// server: it decides no reply of its own.
type recorder struct {
	srv  *httptest.Server
	next http.Handler

	mu      sync.Mutex
	got     []sent
	replies []string // the first replyLimit bytes of each reply body
}

const replyLimit = 64 << 10

func newRecorder(tb testing.TB, next http.Handler) *recorder {
	tb.Helper()
	rec := &recorder{next: next}
	rec.srv = httptest.NewServer(http.HandlerFunc(rec.serve))
	tb.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec.mu.Lock()
	i := len(rec.got)
	rec.got = append(rec.got, sent{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(body)})
	rec.replies = append(rec.replies, "")
	rec.mu.Unlock()
	tee := &teeWriter{ResponseWriter: w}
	rec.next.ServeHTTP(tee, r)
	rec.mu.Lock()
	rec.replies[i] = tee.buf.String()
	rec.mu.Unlock()
}

// teeWriter keeps the first replyLimit bytes written to it.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	if room := replyLimit - t.buf.Len(); room > 0 {
		t.buf.Write(b[:min(room, len(b))])
	}
	return t.ResponseWriter.Write(b)
}

func (rec *recorder) requests() []sent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.got)
}

func (rec *recorder) reply(i int) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if i >= len(rec.replies) {
		return ""
	}
	return rec.replies[i]
}

// The objects of ais://b in every recorded cluster, with their sizes:
// 2061 bytes in all, one of them under the virtual directory "dir/".
var seedObjects = []struct {
	name string
	size int
}{{"a.txt", 1}, {"b.txt", 2048}, {"c.txt", 3}, {"d.txt", 4}, {"dir/o 1", 5}}

// fixture is a real in-process cluster behind a recorder, with the bucket
// ais://b holding seedObjects, and a harness whose CLI talks to the
// recorder.
type fixture struct {
	nc  *nodetest.Cluster
	rec *recorder
	h   *harness
}

func newRecordedCluster(t *testing.T) *fixture {
	t.Helper()
	nc := nodetest.Start(t, nodetest.Options{Targets: harnessTargets})
	ctx := context.Background()
	c := api.NewClient(nc.URL()) // the seeding is not recorded
	bck := cluster.NewBucket("b")
	if err := c.CreateBucket(ctx, bck); err != nil {
		t.Fatal(err)
	}
	for _, o := range seedObjects {
		data := bytes.Repeat([]byte{'x'}, o.size)
		if _, err := c.PutObject(ctx, bck, o.name, bytes.NewReader(data), api.PutOptions{Size: int64(o.size)}); err != nil {
			t.Fatal(err)
		}
	}
	nc.WaitBMD()
	u, err := url.Parse(nc.URL())
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t, httputil.NewSingleHostReverseProxy(u))
	return &fixture{nc: nc, rec: rec, h: &harness{tb: t, nc: nc, env: map[string]string{EnvEndpoint: rec.srv.URL}}}
}

// vars are the values of the live cluster that cases name as {name}: the
// cluster map's, the bucket metadata's, those of ais://b and of each node.
func (f *fixture) vars() map[string]string {
	smap, bmd := f.nc.Proxy().Smap(), f.nc.Proxy().BMD()
	b := bmd.Buckets["b"]
	v := map[string]string{
		"smap.version": strconv.FormatInt(smap.Version, 10), "smap.uuid": smap.UUID, "smap.created": smap.CreationTime,
		"bmd.version": strconv.FormatInt(bmd.Version, 10), "bmd.uuid": bmd.UUID,
		"b.bid": strconv.FormatUint(b.BID, 10), "b.created": time.Unix(0, b.Created).Local().Format(time.DateTime),
	}
	for _, n := range append(smap.TargetList(), smap.Primary) {
		v[n.ID+".url"], v[n.ID+".control"] = n.URL(), n.ControlNet.DirectURL
	}
	return v
}

// scripted answers the requests it gets with replies, in order (a request
// beyond them gets 418): the replies of a cluster in a state miniais cannot
// reach, or of an AIStore feature miniais refuses.
func scripted(replies ...func(http.ResponseWriter)) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var reply func(http.ResponseWriter)
		if len(replies) > 0 {
			reply, replies = replies[0], replies[1:]
		}
		mu.Unlock()
		if reply == nil {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		reply(w)
	})
}

func replyText(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func replyJSON(v any) func(http.ResponseWriter) { return replyJSONStatus(http.StatusOK, v) }

func replyJSONStatus(status int, v any) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", wire.ContentJSON)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
}

// cliCase is one run of the CLI: the exact requests it must send, its exit
// code, and what its output must hold. It runs against a real in-process
// cluster (newRecordedCluster) unless script is set; then it runs against
// those replies alone. In want, stdout, notStdout and stderr, {name} is
// replaced by the fixture's vars, and in want {reply0} by the first reply's
// body (a job ID) and {reply0.uuid} by the "uuid" of that JSON reply.
type cliCase struct {
	name        string
	args        []string
	stdin       string
	interactive bool
	script      []func(http.ResponseWriter)
	want        []sent
	// polled makes a run of identical requests count as one (a job polled
	// until it is done).
	polled bool
	code   int
	stdout []string // substrings, in order
	// notStdout are substrings stdout must not hold.
	notStdout []string
	stderr    string // substring
	// check, when set, looks at the cluster after the run.
	check func(t *testing.T, f *fixture)
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var f *fixture // not parallel: see Run
			vars := map[string]string{}
			if tt.script != nil {
				rec := newRecorder(t, scripted(tt.script...))
				f = &fixture{rec: rec, h: &harness{tb: t, env: map[string]string{EnvEndpoint: rec.srv.URL}}}
			} else {
				f = newRecordedCluster(t)
				vars = f.vars()
			}
			h, rec := f.h, f.rec
			h.stdin, h.interactive = tt.stdin, tt.interactive
			r := h.run(tt.args...)
			if r.code != tt.code {
				t.Fatalf("ais %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), r.code, tt.code, r.stdout, r.stderr)
			}
			got := rec.requests()
			var uuid struct {
				UUID string `json:"uuid"`
			}
			_ = json.Unmarshal([]byte(rec.reply(0)), &uuid)
			vars["reply0"], vars["reply0.uuid"] = strings.TrimSpace(rec.reply(0)), uuid.UUID
			expand := replacer(vars)
			want := make([]sent, len(tt.want))
			for i, s := range tt.want {
				want[i] = sent{s.Method, expand(s.Path), expand(s.Query), expand(s.Body)}
			}
			if tt.polled {
				got = slices.Compact(got)
			}
			if !slices.Equal(got, want) {
				t.Errorf("requests:\n%s\nwant:\n%s", joinSent(got), joinSent(want))
			}
			rest := r.stdout
			for _, w := range tt.stdout {
				w = expand(w)
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order):\n%s", w, r.stdout)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.notStdout {
				if w = expand(w); strings.Contains(r.stdout, w) {
					t.Errorf("stdout has %q:\n%s", w, r.stdout)
				}
			}
			errLine := r.stderr
			if i := strings.LastIndex(errLine, "[y/N]: "); i >= 0 {
				errLine = strings.TrimPrefix(errLine[i+len("[y/N]: "):], "\n")
			}
			if tt.code != ExitOK && (!strings.HasPrefix(errLine, "Error: ") || strings.Count(errLine, "\n") != 1) {
				t.Errorf("stderr %q, want one line 'Error: ...' (after any prompt)", r.stderr)
			}
			if w := expand(tt.stderr); !strings.Contains(r.stderr, w) {
				t.Errorf("stderr %q lacks %q", r.stderr, w)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

// replacer returns a function that replaces every {name} of vars.
func replacer(vars map[string]string) func(string) string {
	var pairs []string
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace
}

func joinSent(ss []sent) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("  " + s.String() + "\n")
	}
	return b.String()
}

// qAIS is the query of every request that names a bucket.
const qAIS = "provider=ais"

// bucketGone checks that the cluster no longer has ais://b.
func bucketGone(t *testing.T, f *fixture) {
	t.Helper()
	if f.nc.Proxy().BMD().Get(cluster.NewBucket("b")) != nil {
		t.Error("ais://b still exists")
	}
}

// bucketKept checks that the cluster still has ais://b with its objects.
func bucketKept(t *testing.T, f *fixture) {
	t.Helper()
	if _, ok := f.nc.Object("b", "a.txt"); !ok {
		t.Error("ais://b or its objects are gone")
	}
}

// objectsGone returns a check that waits until the cluster has none of
// names in ais://b (a job deletes them), and still has b.txt.
func objectsGone(names ...string) func(*testing.T, *fixture) {
	return func(t *testing.T, f *fixture) {
		t.Helper()
		for _, n := range names {
			nodetest.WaitFor(t, "ais://b/"+n+" to be deleted", func() bool { _, ok := f.nc.Object("b", n); return !ok })
		}
		if _, ok := f.nc.Object("b", "b.txt"); !ok {
			t.Error("an object that was not selected is gone")
		}
	}
}

func TestCreateRmbRmo(t *testing.T) {
	destroy := sent{"DELETE", "/v1/buckets/b", qAIS, `{"action":"destroy-bck"}`}
	listRange := func(v string) sent {
		return sent{"DELETE", "/v1/buckets/b", qAIS, `{"action":"delete-listrange","value":` + v + `}`}
	}
	runCases(t, []cliCase{
		{name: "create", args: []string{"create", "ais://b2"},
			want:   []sent{{"POST", "/v1/buckets/b2", qAIS, `{"action":"create-bck"}`}},
			stdout: []string{"Created bucket ais://b2"},
			check: func(t *testing.T, f *fixture) {
				if f.nc.Proxy().BMD().Get(cluster.NewBucket("b2")) == nil {
					t.Error("no bucket b2 in the bucket metadata")
				}
			}},
		{name: "create an existing bucket", args: []string{"create", "ais://b"},
			want: []sent{{"POST", "/v1/buckets/b", qAIS, `{"action":"create-bck"}`}},
			code: ExitError, stderr: "already exists"},
		{name: "create without a bucket name", args: []string{"create", "ais://"}, code: ExitUsage, stderr: "empty bucket name"},
		{name: "rmb -y", args: []string{"rmb", "-y", "ais://b"}, want: []sent{destroy}, stdout: []string{"Destroyed bucket ais://b"}, check: bucketGone},
		{name: "rmb --yes after the argument", args: []string{"rmb", "ais://b", "--yes"}, want: []sent{destroy}, check: bucketGone},
		{name: "rmb without -y on a pipe refuses at once", args: []string{"rmb", "ais://b"}, stdin: "y\n",
			code: ExitUsage, stderr: "refusing to destroy ais://b without confirmation: stdin is not a terminal (add --yes", check: bucketKept},
		{name: "rmb confirmed", args: []string{"rmb", "ais://b"}, stdin: "Yes\n", interactive: true, want: []sent{destroy},
			stdout: []string{"Destroyed bucket ais://b"}, stderr: "Destroy ais://b and every object in it? [y/N]: ", check: bucketGone},
		{name: "rmb declined", args: []string{"rmb", "ais://b"}, stdin: "n\n", interactive: true,
			code: ExitError, stderr: "canceled: nothing was destroyed", check: bucketKept},
		{name: "rmb declined by end of input", args: []string{"rmb", "ais://b"}, stdin: "", interactive: true,
			code: ExitError, stderr: "[y/N]: \nError: canceled", check: bucketKept},
		{name: "rmb of a missing bucket", args: []string{"rmb", "-y", "ais://nope"},
			want: []sent{{"DELETE", "/v1/buckets/nope", qAIS, `{"action":"destroy-bck"}`}},
			code: ExitError, stderr: `bucket ais://nope does not exist`},
		{name: "rmo one object", args: []string{"rmo", "ais://b/dir/o 1"},
			want:   []sent{{"DELETE", "/v1/objects/b/dir/o%201", qAIS, ""}},
			stdout: []string{"Deleted ais://b/dir/o 1"},
			check: func(t *testing.T, f *fixture) {
				if _, ok := f.nc.Object("b", "dir/o 1"); ok {
					t.Error("the object is still there")
				}
			}},
		{name: "rmo --list starts a job", args: []string{"rmo", "ais://b", "--list", "a.txt, dir/o 1"},
			want:   []sent{listRange(`{"template":"","objnames":["a.txt","dir/o 1"]}`)},
			stdout: []string{"Started removing objects from ais://b: job {reply0}"},
			check:  objectsGone("a.txt", "dir/o 1")},
		{name: "rmo --template", args: []string{"rmo", "--template", "ck{1..3}.txt", "ais://b"},
			want:   []sent{listRange(`{"template":"ck{1..3}.txt","objnames":null}`)},
			stdout: []string{"Started removing objects from ais://b: job {reply0}"}},
		{name: "rmo --prefix travels as a template", args: []string{"rmo", "ais://b", "--prefix", "dir/"},
			want:   []sent{listRange(`{"template":"dir/","objnames":null}`)},
			stdout: []string{"Started removing objects from ais://b: job {reply0}"},
			check:  objectsGone("dir/o 1")},
		// A cluster that refuses the action (AIStore's builds without it,
		// miniais before its jobs): the error is shown on one line.
		{name: "rmo --list: 501 shown", args: []string{"rmo", "ais://b", "--list", "a, b/c"},
			script: []func(http.ResponseWriter){replyJSONStatus(501, wire.HTTPError{Message: "action delete-listrange is not implemented", Status: 501})},
			want:   []sent{listRange(`{"template":"","objnames":["a","b/c"]}`)},
			code:   ExitError, stderr: "Error: action delete-listrange is not implemented\n"},
		{name: "rmo --list and --prefix", args: []string{"rmo", "ais://b", "--list", "a", "--prefix", "p"},
			code: ExitUsage, stderr: "--list and --prefix do not combine"},
		{name: "rmo --list of an object", args: []string{"rmo", "ais://b/o", "--list", "a"}, code: ExitUsage, stderr: "names an object"},
		{name: "rmo --list of two buckets", args: []string{"rmo", "ais://b", "ais://c", "--list", "a"}, code: ExitUsage, stderr: "takes one bucket"},
		{name: "rmo --list of nothing", args: []string{"rmo", "ais://b", "--list", " , "}, code: ExitUsage, stderr: "names no object"},
		{name: "rmo of a bucket", args: []string{"rmo", "ais://b"}, code: ExitUsage, stderr: "names no object"},
	})
}

// aisProps are the properties an AIStore bucket answers.
var aisProps = cluster.DefaultBucketProps(7, time.Unix(0, 1_700_000_000_000_000_000))

func TestBucketProps(t *testing.T) {
	head := sent{"HEAD", "/v1/buckets/b", qAIS, ""}
	propsHeader := func(w http.ResponseWriter) {
		b, _ := json.Marshal(aisProps)
		w.Header().Set(wire.HdrBucketProps, string(b))
	}
	runCases(t, []cliCase{
		{name: "show", args: []string{"bucket", "props", "show", "ais://b"}, want: []sent{head},
			stdout: []string{"PROPERTY", "access", "18446744073709551615", "bid", "{b.bid}",
				"checksum.type", "xxhash2", "checksum.validate_warm_get", "false", "created", "{b.created}",
				"mirror.copies", "1", "versioning.enabled", "true", "write_policy.md", "immediate"}},
		{name: "show a prefix", args: []string{"bucket", "props", "show", "ais://b", "checksum"}, want: []sent{head},
			stdout: []string{"checksum.enable_read_range", "checksum.type", "checksum.validate_warm_get"}, notStdout: []string{"mirror", "access"}},
		{name: "show --json", args: []string{"bucket", "props", "show", "ais://b", "--json"}, want: []sent{head},
			stdout: []string{`"provider": "ais"`, `"checksum": {`, `"type": "xxhash2"`}},
		{name: "show a prefix --json", args: []string{"bucket", "props", "show", "ais://b", "versioning", "--json"}, want: []sent{head},
			stdout: []string{"{\n  \"versioning\": {\n    \"enabled\": true,\n    \"validate_warm_get\": false\n  }\n}\n"}, notStdout: []string{"checksum"}},
		{name: "show no match", args: []string{"bucket", "props", "show", "ais://b", "nosuch"}, want: []sent{head},
			code: ExitError, stderr: `no bucket property key starts with "nosuch"`},
		{name: "show a missing bucket", args: []string{"bucket", "props", "show", "ais://nope"},
			want: []sent{{"HEAD", "/v1/buckets/nope", qAIS, ""}}, code: ExitError, stderr: `bucket ais://nope does not exist`},
		{name: "set", args: []string{"bucket", "props", "set", "ais://b", "checksum.type=md5", "versioning.enabled=false", "checksum.validate_warm_get=true", "access=123"},
			want: []sent{head, {"PATCH", "/v1/buckets/b", qAIS,
				`{"action":"set-bprops","value":{"access":"123","checksum":{"type":"md5","validate_warm_get":true},"versioning":{"enabled":false}}}`}},
			stdout: []string{`"checksum.type" set to "md5" (was "xxhash2")`, `"versioning.enabled" set to false (was true)`,
				`"checksum.validate_warm_get" set to true (was false)`, `"access" set to "123" (was "18446744073709551615")`, "Updated the properties of ais://b"},
			check: func(t *testing.T, f *fixture) {
				p := f.nc.Proxy().BMD().Get(cluster.NewBucket("b"))
				if p.Checksum.Type != "md5" || p.Versioning.Enabled || !p.Checksum.ValidateWarmGet || p.Access != 123 {
					t.Errorf("props after set: %+v", p)
				}
			}},
		// The in-process targets have two mountpaths each.
		{name: "set mirroring", args: []string{"bucket", "props", "set", "ais://b", "mirror.copies=2"},
			want:   []sent{head, {"PATCH", "/v1/buckets/b", qAIS, `{"action":"set-bprops","value":{"mirror":{"copies":2}}}`}},
			stdout: []string{`"mirror.copies" set to 2 (was 1)`, "Updated the properties of ais://b", "Started make-n-copies job "},
			check: func(t *testing.T, f *fixture) {
				p := f.nc.Proxy().BMD().Get(cluster.NewBucket("b"))
				if p.Mirror != (cluster.MirrorConf{Copies: 2, Enabled: true}) || p.Copies() != 2 {
					t.Errorf("props after set: %+v", p.Mirror)
				}
			}},
		{name: "set more copies than mountpaths", args: []string{"bucket", "props", "set", "ais://b", "mirror.copies=3"},
			want: []sent{head, {"PATCH", "/v1/buckets/b", qAIS, `{"action":"set-bprops","value":{"mirror":{"copies":3}}}`}},
			code: ExitError, stderr: "2 available mountpaths",
			check: func(t *testing.T, f *fixture) {
				if p := f.nc.Proxy().BMD().Get(cluster.NewBucket("b")); p.Copies() != 1 {
					t.Errorf("a refused change changed the copies: %+v", p.Mirror)
				}
			}},
		{name: "set copies out of range", args: []string{"bucket", "props", "set", "ais://b", "mirror.copies=33"},
			want: []sent{head, {"PATCH", "/v1/buckets/b", qAIS, `{"action":"set-bprops","value":{"mirror":{"copies":33}}}`}},
			code: ExitError, stderr: "must be 1 to 32"},
		{name: "set mirroring enabled with one copy", args: []string{"bucket", "props", "set", "ais://b", "mirror.enabled=true", "mirror.copies=1"},
			want: []sent{head, {"PATCH", "/v1/buckets/b", qAIS, `{"action":"set-bprops","value":{"mirror":{"copies":1,"enabled":true}}}`}},
			code: ExitError, stderr: "contradicts"},
		// AIStore mirrors: what the CLI sends and shows when the change is taken.
		{name: "set mirroring on AIStore", args: []string{"bucket", "props", "set", "ais://b", "mirror.copies=2", "access=123"},
			script: []func(http.ResponseWriter){propsHeader, replyText(200, "J5y5lVxO0")},
			want: []sent{head, {"PATCH", "/v1/buckets/b", qAIS,
				`{"action":"set-bprops","value":{"access":"123","mirror":{"copies":2}}}`}},
			stdout: []string{`"mirror.copies" set to 2 (was 1)`, `"access" set to "123" (was "18446744073709551615")`, "Updated the properties of ais://b",
				"Started make-n-copies job J5y5lVxO0"}},
		{name: "set an unknown key", args: []string{"bucket", "props", "set", "ais://b", "checksum.kind=md5"}, want: []sent{head},
			code: ExitUsage, stderr: `unknown bucket property "checksum.kind"`},
		{name: "set a section", args: []string{"bucket", "props", "set", "ais://b", "checksum=md5"}, want: []sent{head},
			code: ExitUsage, stderr: `"checksum" is a section`},
		{name: "set a bad bool", args: []string{"bucket", "props", "set", "ais://b", "versioning.enabled=maybe"}, want: []sent{head},
			code: ExitUsage, stderr: "expected true or false"},
		{name: "set a bad number", args: []string{"bucket", "props", "set", "ais://b", "mirror.copies=two"}, want: []sent{head},
			code: ExitUsage, stderr: "expected a number"},
		{name: "set without =", args: []string{"bucket", "props", "set", "ais://b", "mirror.copies"}, code: ExitUsage, stderr: "expected KEY=VALUE"},
		{name: "set twice", args: []string{"bucket", "props", "set", "ais://b", "a=1", "a=2"}, code: ExitUsage, stderr: `"a" given twice`},
		{name: "reset", args: []string{"bucket", "props", "reset", "ais://b"},
			want:   []sent{{"PATCH", "/v1/buckets/b", qAIS, `{"action":"reset-bprops","value":null}`}},
			stdout: []string{"Reset the properties of ais://b"},
			check: func(t *testing.T, f *fixture) {
				if v := f.nc.Proxy().BMD().Version; v < 2 {
					t.Errorf("bucket metadata v%d after a reset, want a new version", v)
				}
			}},
	})
}

func TestShowClusterQueries(t *testing.T) {
	smap := sent{"GET", "/v1/daemon", "what=smap", ""}
	config := sent{"GET", "/v1/cluster", "what=cluster_config", ""}
	mountpaths := sent{"GET", "/v1/reverse/daemon", "what=mountpaths", ""} // one per target
	// A map with a target in maintenance: a state miniais has no way into.
	maint := cluster.NewMap("stub-uuid", cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:8080", "127.0.0.1:9080"))
	maint.CreationTime, maint.Version = "2026-01-02 03:04:05", 5
	maint.Targets["t1"] = cluster.NewNode("t1", cluster.RoleTarget, "127.0.0.1:8081", "127.0.0.1:9081")
	t2 := cluster.NewNode("t2", cluster.RoleTarget, "127.0.0.1:8082", "127.0.0.1:9082")
	t2.Flags = cluster.FlagMaintenance | cluster.FlagMaintenancePostRebalance
	maint.Targets["t2"] = t2
	setConfig := func(query string) sent { return sent{"PUT", "/v1/cluster/set-config", query, ""} }
	runCases(t, []cliCase{
		{name: "smap", args: []string{"show", "cluster", "smap"}, want: []sent{smap},
			stdout: []string{"NODE", "TYPE", "PUBLIC URL", "CONTROL URL", "DATA URL", "FLAGS",
				"p1[P]", "proxy", "{p1.url}", "{p1.control}",
				"t1", "target", "{t1.url}", "{t1.control}", "-",
				"t2", "target", "{t2.url}",
				"Primary proxy: p1", "Proxies: 1, targets: 2, cluster map version {smap.version}, UUID {smap.uuid}, created {smap.created}"}},
		{name: "smap with a target in maintenance", args: []string{"show", "cluster", "smap"}, script: []func(http.ResponseWriter){replyJSON(maint)},
			want: []sent{smap},
			stdout: []string{"p1[P]", "proxy", "http://127.0.0.1:8080", "tcp://127.0.0.1:9080",
				"t1", "target", "http://127.0.0.1:8081", "-",
				"t2", "target", "maintenance,post-rebalance",
				"Primary proxy: p1", "Proxies: 1, targets: 2, cluster map version 5, UUID stub-uuid, created 2026-01-02 03:04:05"}},
		{name: "smap --json", args: []string{"show", "cluster", "smap", "--json"}, want: []sent{smap},
			stdout: []string{`"pmap": {`, `"version": "{smap.version}"`}},
		{name: "show cluster still shows the map", args: []string{"show", "cluster"}, want: []sent{smap, mountpaths, mountpaths},
			stdout: []string{"map version {smap.version}", "ROLE", "online, primary"}},
		{name: "a misspelt subcommand", args: []string{"show", "cluster", "smpa"}, code: ExitUsage, stderr: `unknown command "smpa" (want smap, bmd or config)`},
		{name: "bmd", args: []string{"show", "cluster", "bmd"}, want: []sent{{"GET", "/v1/daemon", "what=bmd", ""}},
			stdout: []string{"BUCKET", "CREATED", "CHECKSUM", "VERSIONING", "ais://b", "xxhash2", "true", "Buckets: 1, version {bmd.version}, UUID {bmd.uuid}"}},
		{name: "bmd --json", args: []string{"show", "cluster", "bmd", "--json"}, want: []sent{{"GET", "/v1/daemon", "what=bmd", ""}},
			stdout: []string{`"providers": {`, `"ais": {`, `"@#": {`, `"b": {`}},
		{name: "config", args: []string{"show", "cluster", "config"}, want: []sent{config},
			stdout: []string{"PROPERTY", "checksum.type", "xxhash2", "checksum.validate_warm_get", "false", "config_version", "0", "log.level", "1"}},
		{name: "config KEY", args: []string{"show", "cluster", "config", "log"}, want: []sent{config},
			stdout: []string{"log.level", "1", "log.to_stderr", "true"}, notStdout: []string{"checksum"}},
		{name: "config KEY --json", args: []string{"show", "cluster", "config", "log.level", "--json"}, want: []sent{config},
			stdout: []string{"{\n  \"log\": {\n    \"level\": \"1\"\n  }\n}\n"}},
		{name: "config no match", args: []string{"show", "cluster", "config", "nosuch"}, want: []sent{config},
			code: ExitError, stderr: `no cluster configuration key starts with "nosuch"`},
		{name: "config cluster", args: []string{"config", "cluster"}, want: []sent{config}, stdout: []string{"checksum.type", "log.level"}},
		{name: "config cluster KEY", args: []string{"config", "cluster", "checksum.type"}, want: []sent{config},
			stdout: []string{"checksum.type", "xxhash2"}, notStdout: []string{"log."}},
		{name: "config cluster KEY=VALUE", args: []string{"config", "cluster", "tracing.sampler_probability=0.5", "checksum.validate_warm_get=true"},
			want:   []sent{setConfig("checksum.validate_warm_get=true&tracing.sampler_probability=0.5"), config},
			stdout: []string{"Updated the cluster configuration:", "PROPERTY", "tracing.sampler_probability", "0.5", "checksum.validate_warm_get", "true"},
			check: func(t *testing.T, f *fixture) {
				cfg, err := api.NewClient(f.nc.URL()).ClusterConfig(context.Background())
				if err != nil || cfg["config_version"] != "1" {
					t.Errorf("cluster configuration after the change: version %v, %v", cfg["config_version"], err)
				}
			}},
		{name: "config cluster KEY VALUE --transient", args: []string{"config", "cluster", "tracing.sampler_probability", "0.25", "--transient"},
			want:   []sent{setConfig("tracing.sampler_probability=0.25&transient=true"), config},
			stdout: []string{"tracing.sampler_probability", "0.25"}},
		{name: "config cluster a section is shown whole", args: []string{"config", "cluster", "log", "--json"}, want: []sent{config},
			stdout: []string{`"level": "1"`, `"to_stderr": true`}},
		{name: "config cluster rejected", args: []string{"config", "cluster", "nosuch.key=1"},
			want: []sent{setConfig("nosuch.key=1")},
			code: ExitError, stderr: `key "nosuch.key" cannot be set in miniais`},
		{name: "config cluster odd pairs", args: []string{"config", "cluster", "a", "1", "b"}, code: ExitUsage, stderr: "KEY VALUE pairs"},
		{name: "config cluster mixed", args: []string{"config", "cluster", "a=1", "b"}, code: ExitUsage, stderr: `"b": expected KEY=VALUE`},
		{name: "transient without a value", args: []string{"config", "cluster", "log", "--transient"}, code: ExitUsage, stderr: "--transient needs KEY=VALUE"},
	})
}

// listBody is the action message of a listing page of ais://b.
func listBody(props, token string, pageSize int64, uuid, flags string) string {
	return fmt.Sprintf(`{"action":"list","value":{"prefix":"","props":%q,"continuation_token":%q,"pagesize":%d,"uuid":%q,"flags":%q}}`,
		props, token, pageSize, uuid, flags)
}

func TestListFlags(t *testing.T) {
	page := func(body string) sent { return sent{"GET", "/v1/buckets/b", qAIS, body} }
	runCases(t, []cliCase{
		{name: "default", args: []string{"ls", "ais://b"}, want: []sent{page(listBody(api.DefaultListProps, "", 0, "", "0"))},
			stdout: []string{"NAME", "SIZE", "VERSION", "CHECKSUM", "ATIME", "a.txt", "1 B", "b.txt", "2.00 KiB", "d.txt", "dir/o 1",
				"Total: 5 object(s), 2.01 KiB"}},
		{name: "props in their order, limit across pages, UUID echoed",
			args: []string{"ls", "ais://b", "--props", "size,location", "--limit", "3", "--page-size", "2"},
			want: []sent{
				page(listBody("name,size,location", "", 2, "", "0")),
				page(listBody("name,size,location", "b.txt", 1, "{reply0.uuid}", "0")),
			},
			stdout:    []string{"NAME", "SIZE", "LOCATION", "a.txt", "1 B", "t[t", "]:mp[", "b.txt", "c.txt", "Total: 3 object(s), 2.00 KiB"},
			notStdout: []string{"d.txt", "CHECKSUM"}},
		{name: "limit within one page", args: []string{"ls", "ais://b", "--limit", "2"},
			want:   []sent{page(listBody(api.DefaultListProps, "", 2, "", "0"))},
			stdout: []string{"a.txt", "b.txt", "Total: 2 object(s)"}, notStdout: []string{"c.txt"}},
		{name: "name only", args: []string{"ls", "ais://b", "--name-only"}, want: []sent{page(listBody("name", "", 0, "", "16"))},
			stdout: []string{"NAME\n", "a.txt\n", "Total: 5 object(s)\n"}, notStdout: []string{"SIZE", "KiB"}},
		{name: "props name", args: []string{"ls", "ais://b", "--props", "name"}, want: []sent{page(listBody("name", "", 0, "", "16"))}},
		{name: "props all", args: []string{"ls", "ais://b", "--props", "all"}, want: []sent{page(listBody(api.ListPropsAll, "", 0, "", "0"))},
			stdout: []string{"NAME", "SIZE", "CHECKSUM", "ATIME", "VERSION", "CACHED", "STATUS", "COPIES", "CUSTOM", "LOCATION", "a.txt", "yes", "ok", "1"}},
		{name: "no recursion", args: []string{"ls", "ais://b", "--nr", "--props", "name,size"}, want: []sent{page(listBody("name,size", "", 0, "", "2048"))},
			stdout:    []string{"a.txt", "1 B", "b.txt", "d.txt", "dir/", "-", "Total: 4 object(s), 1 virtual director(ies), 2.01 KiB"},
			notStdout: []string{"o 1"}},
		{name: "no-recursion long form", args: []string{"ls", "ais://b", "--no-recursion"}, want: []sent{page(listBody(api.DefaultListProps, "", 0, "", "2048"))}},
		{name: "unknown prop", args: []string{"ls", "ais://b", "--props", "name,colour"}, code: ExitUsage, stderr: `unknown property "colour"`},
		{name: "name-only and props", args: []string{"ls", "ais://b", "--props", "size", "--name-only"}, code: ExitUsage, stderr: "do not combine"},
		{name: "negative limit", args: []string{"ls", "ais://b", "--limit", "-1"}, code: ExitUsage, stderr: "must not be negative"},
		{name: "listing flags need a bucket", args: []string{"ls", "--limit", "3"}, code: ExitUsage, stderr: "--limit needs a bucket"},
	})
}

func TestSummary(t *testing.T) {
	sum := func(uuid, prefix string) sent {
		return sent{"GET", "/v1/buckets/b", qAIS, fmt.Sprintf(
			`{"action":"summary-bck","value":{"uuid":%q,"prefix":%q,"cached":false,"present":true,"dont_add_remote":false}}`, uuid, prefix)}
	}
	runCases(t, []cliCase{
		{name: "ls --summary", args: []string{"ls", "ais://b", "--summary"},
			want: []sent{sum("", ""), sum("{reply0}", "")}, polled: true,
			stdout: []string{"NAME", "OBJECTS", "SIZE ON DISK", "USAGE(%)", "ais://b", "5", "2.01 KiB", "0%"}},
		{name: "storage summary with a prefix", args: []string{"storage", "summary", "ais://b/dir/"},
			want: []sent{sum("", "dir/"), sum("{reply0}", "dir/")}, polled: true,
			stdout: []string{"ais://b/dir/", "1", "5 B", "0%"}},
		{name: "ls --summary with a listing flag", args: []string{"ls", "ais://b", "--summary", "--props", "size"}, code: ExitUsage, stderr: "do not combine"},
		{name: "summary of a missing bucket", args: []string{"storage", "summary", "ais://nope"},
			want: []sent{{"GET", "/v1/buckets/nope", qAIS, `{"action":"summary-bck","value":{"uuid":"","prefix":"","cached":false,"present":true,"dont_add_remote":false}}`}},
			code: ExitError, stderr: `bucket ais://nope does not exist`},
	})
}

// TestCommandsHelp checks that every new spelling is a command with help.
func TestCommandsHelp(t *testing.T) {
	h := &harness{tb: t, env: map[string]string{}} // help asks no cluster
	for _, args := range [][]string{
		{"create", "--help"}, {"rmb", "--help"}, {"rmo", "--help"}, {"bucket", "props", "--help"},
		{"bucket", "props", "set", "--help"}, {"show", "cluster", "--help"}, {"show", "cluster", "config", "--help"},
		{"config", "cluster", "--help"}, {"storage", "summary", "--help"}, {"ls", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.must(args...)
			if !strings.Contains(r.stdout, "USAGE") {
				t.Errorf("no usage:\n%s", r.stdout)
			}
		})
	}
}
