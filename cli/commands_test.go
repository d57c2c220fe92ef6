package cli

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

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
)

// sent is one request as the stub cluster received it: the query is as
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

// stubCluster is a scripted proxy that records every request and answers
// the AIStore requests of the commands under test: bucket HEAD/PATCH/
// POST/DELETE of "b" (any other bucket is 404), multi-object deletes (501,
// as miniais answers them for now, unless jobID is set), object DELETE,
// smap, BMD, cluster configuration (get and set), listings of "b" and the
// summary-bck job. It is an httptest server started for one test.
type stubCluster struct {
	srv *httptest.Server
	// jobID, when set, is the job a multi-object delete starts.
	jobID string

	mu     sync.Mutex
	got    []sent
	config map[string]any
}

// stubObjects are the objects of ais://b in a listing; with
// --no-recursion "dir/" comes back as a virtual directory.
var stubObjects = []*wire.LsoEntry{
	{Name: "a.txt", Size: 1, Checksum: "c1", Version: "1", Location: "t[t1]:mp[/m1]", Flags: 64},
	{Name: "b.txt", Size: 2048, Checksum: "c2", Version: "1", Location: "t[t2]:mp[/m2]", Flags: 64},
	{Name: "c.txt", Size: 3, Checksum: "c3", Version: "2", Location: "t[t1]:mp[/m1]", Flags: 64},
	{Name: "d.txt", Size: 4, Checksum: "c4", Version: "1", Location: "t[t2]:mp[/m2]", Flags: 64},
}

// stubProps are the properties of ais://b.
var stubProps = cluster.DefaultBucketProps(7, time.Unix(0, 1_700_000_000_000_000_000))

func newStubCluster(tb testing.TB) (*stubCluster, *harness) {
	tb.Helper()
	sc := &stubCluster{config: map[string]any{
		"checksum":       map[string]any{"type": "xxhash2", "validate_warm_get": false},
		"log":            map[string]any{"level": "3", "max_size": "64MiB"},
		"config_version": "4",
		"features":       "0",
	}}
	sc.srv = httptest.NewServer(http.HandlerFunc(sc.serve))
	tb.Cleanup(sc.srv.Close)
	return sc, &harness{tb: tb, env: map[string]string{EnvEndpoint: sc.srv.URL}}
}

func (sc *stubCluster) requests() []sent {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return slices.Clone(sc.got)
}

func (sc *stubCluster) reset() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.got = nil
}

func stubError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	b, _ := json.Marshal(wire.HTTPError{Message: msg, Method: r.Method, URLPath: r.URL.Path, Status: status})
	if r.Method == http.MethodHead {
		w.Header().Set(wire.HdrError, string(b))
	}
	w.Header().Set("Content-Type", wire.ContentJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func stubJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", wire.ContentJSON)
	_ = json.NewEncoder(w).Encode(v)
}

func (sc *stubCluster) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sc.mu.Lock()
	sc.got = append(sc.got, sent{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(body)})
	sc.mu.Unlock()
	var msg wire.ActionMsg
	if len(body) > 0 {
		if err := json.Unmarshal(body, &msg); err != nil {
			stubError(w, r, http.StatusBadRequest, "bad action message")
			return
		}
	}
	q := r.URL.Query()
	switch p := r.URL.Path; {
	case p == wire.PathDaemon && q.Get(wire.QparamWhat) == wire.WhatSmap:
		px := cluster.NewNode("p1", cluster.RoleProxy, "127.0.0.1:8080", "127.0.0.1:9080")
		m := cluster.NewMap("stub-uuid", px)
		m.CreationTime = "2026-01-02 03:04:05"
		m.Version = 5
		m.Targets["t1"] = cluster.NewNode("t1", cluster.RoleTarget, "127.0.0.1:8081", "127.0.0.1:9081")
		t2 := cluster.NewNode("t2", cluster.RoleTarget, "127.0.0.1:8082", "127.0.0.1:9082")
		t2.Flags = cluster.FlagMaintenance | cluster.FlagMaintenancePostRebalance
		m.Targets["t2"] = t2
		stubJSON(w, m)
	case p == wire.PathDaemon && q.Get(wire.QparamWhat) == wire.WhatBMD:
		bmd := cluster.NewBMD("bmd-uuid")
		bmd.Version = 9
		bmd.Buckets["b"] = stubProps
		stubJSON(w, bmd)
	case p == wire.PathCluster && q.Get(wire.QparamWhat) == wire.WhatClusterConfig && r.Method == http.MethodGet:
		sc.mu.Lock()
		b, _ := json.Marshal(sc.config)
		sc.mu.Unlock()
		w.Header().Set("Content-Type", wire.ContentJSON)
		_, _ = w.Write(b)
	case p == wire.PathClusterSetConfig && r.Method == http.MethodPut:
		sc.mu.Lock()
		defer sc.mu.Unlock()
		for k, v := range q {
			if k == wire.QparamTransient {
				continue
			}
			sec, key, ok := strings.Cut(k, ".")
			m, _ := sc.config[sec].(map[string]any)
			if _, known := m[key]; !ok || !known {
				stubError(w, r, http.StatusBadRequest, fmt.Sprintf("unknown configuration key %q", k))
				return
			}
			m[key] = v[0]
		}
	case p == "/v1/buckets/b":
		sc.bucket(w, r, msg)
	case strings.HasPrefix(p, "/v1/buckets/"):
		stubError(w, r, http.StatusNotFound, fmt.Sprintf("bucket %q does not exist", strings.TrimPrefix(p, "/v1/buckets/")))
	case strings.HasPrefix(p, "/v1/objects/b/") && r.Method == http.MethodDelete:
	default:
		stubError(w, r, http.StatusBadRequest, "stub: unexpected "+r.Method+" "+p)
	}
}

func (sc *stubCluster) bucket(w http.ResponseWriter, r *http.Request, msg wire.ActionMsg) {
	switch {
	case r.Method == http.MethodHead:
		b, _ := json.Marshal(stubProps)
		w.Header().Set(wire.HdrBucketProps, string(b))
	case r.Method == http.MethodPost && msg.Action == wire.ActCreateBck,
		r.Method == http.MethodDelete && msg.Action == wire.ActDestroyBck,
		r.Method == http.MethodPatch && (msg.Action == wire.ActSetBprops || msg.Action == "reset-bprops"):
	case r.Method == http.MethodDelete && msg.Action == "delete-listrange":
		if sc.jobID == "" {
			stubError(w, r, http.StatusNotImplemented, "action delete-listrange is not implemented")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, sc.jobID)
	case r.Method == http.MethodGet && msg.Action == "summary-bck":
		var v struct {
			UUID   string `json:"uuid"`
			Prefix string `json:"prefix"`
		}
		_ = json.Unmarshal(msg.Value, &v)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if v.UUID == "" {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, "SumJob123")
			return
		}
		_, _ = fmt.Fprintf(w, `[{"name":"b","provider":"ais","namespace":{"uuid":"","name":""},`+
			`"ObjCount":{"obj_count_present":"4","obj_count_remote":"0"},`+
			`"ObjSize":{"obj_min_size":1,"obj_avg_size":514,"obj_max_size":2048},`+
			`"TotalSize":{"size_on_disk":"%d","size_all_present_objs":"2056","size_all_remote_objs":"0","total_disks_size":"1000000"},`+
			`"used_pct":3,"is_present":true}]`, 3<<20)
	case r.Method == http.MethodGet && msg.Action == wire.ActList:
		lm, _ := msg.ListMsg()
		ents := slices.Clone(stubObjects)
		if lm.Flags&wire.LsNoRecursion != 0 {
			ents = append(ents[:1], append([]*wire.LsoEntry{{Name: "dir/", Flags: wire.EntryIsDir}}, ents[1:]...)...)
		}
		res := &wire.LsoResult{UUID: "LsUUID123", Entries: []*wire.LsoEntry{}}
		for _, e := range ents {
			if e.Name > lm.ContinuationToken {
				res.Entries = append(res.Entries, e)
			}
		}
		if lm.PageSize > 0 && int64(len(res.Entries)) > lm.PageSize {
			res.Entries = res.Entries[:lm.PageSize]
			res.ContinuationToken = res.Entries[len(res.Entries)-1].Name
		}
		stubJSON(w, res)
	default:
		stubError(w, r, http.StatusBadRequest, "stub: unexpected "+r.Method+" bucket action "+strconv.Quote(msg.Action))
	}
}

// cliCase is one run of the CLI against the stub cluster: the exact
// requests it must send, its exit code, and what its output must hold.
type cliCase struct {
	name        string
	args        []string
	stdin       string
	interactive bool
	jobID       string
	want        []sent
	code        int
	stdout      []string // substrings, in order
	notStdout   []string
	stderr      string // substring
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			sc, h := newStubCluster(t) // not parallel: see Run
			sc.jobID = tt.jobID
			h.stdin, h.interactive = tt.stdin, tt.interactive
			r := h.run(tt.args...)
			if r.code != tt.code {
				t.Fatalf("ais %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), r.code, tt.code, r.stdout, r.stderr)
			}
			if got := sc.requests(); !slices.Equal(got, tt.want) {
				t.Errorf("requests:\n%s\nwant:\n%s", joinSent(got), joinSent(tt.want))
			}
			rest := r.stdout
			for _, w := range tt.stdout {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order):\n%s", w, r.stdout)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.notStdout {
				if strings.Contains(r.stdout, w) {
					t.Errorf("stdout has %q:\n%s", w, r.stdout)
				}
			}
			errLine := r.stderr
			if i := strings.LastIndex(errLine, "[y/N]: "); i >= 0 {
				errLine = strings.TrimPrefix(errLine[i+len("[y/N]: "):], "\n")
			}
			if tt.code != ExitOK && (!strings.HasPrefix(errLine, "Error: ") || strings.Count(errLine, "\n") != 1) {
				t.Errorf("stderr %qAIS, want one line 'Error: ...' (after any prompt)", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.stderr)
			}
		})
	}
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

func TestCreateRmbRmo(t *testing.T) {
	destroy := sent{"DELETE", "/v1/buckets/b", qAIS, `{"action":"destroy-bck"}`}
	listRange := func(v string) sent {
		return sent{"DELETE", "/v1/buckets/b", qAIS, `{"action":"delete-listrange","value":` + v + `}`}
	}
	runCases(t, []cliCase{
		{name: "create", args: []string{"create", "ais://b"},
			want:   []sent{{"POST", "/v1/buckets/b", qAIS, `{"action":"create-bck"}`}},
			stdout: []string{"Created bucket ais://b"}},
		{name: "create without a bucket name", args: []string{"create", "ais://"}, code: ExitUsage, stderr: "empty bucket name"},
		{name: "rmb -y", args: []string{"rmb", "-y", "ais://b"}, want: []sent{destroy}, stdout: []string{"Destroyed bucket ais://b"}},
		{name: "rmb --yes after the argument", args: []string{"rmb", "ais://b", "--yes"}, want: []sent{destroy}},
		{name: "rmb without -y on a pipe refuses at once", args: []string{"rmb", "ais://b"}, stdin: "y\n",
			code: ExitUsage, stderr: "refusing to destroy ais://b without confirmation: stdin is not a terminal (add --yes"},
		{name: "rmb confirmed", args: []string{"rmb", "ais://b"}, stdin: "Yes\n", interactive: true, want: []sent{destroy},
			stdout: []string{"Destroyed bucket ais://b"}, stderr: "Destroy ais://b and every object in it? [y/N]: "},
		{name: "rmb declined", args: []string{"rmb", "ais://b"}, stdin: "n\n", interactive: true,
			code: ExitError, stderr: "canceled: nothing was destroyed"},
		{name: "rmb declined by end of input", args: []string{"rmb", "ais://b"}, stdin: "", interactive: true,
			code: ExitError, stderr: "[y/N]: \nError: canceled"},
		{name: "rmb of a missing bucket", args: []string{"rmb", "-y", "ais://nope"},
			want: []sent{{"DELETE", "/v1/buckets/nope", qAIS, `{"action":"destroy-bck"}`}},
			code: ExitError, stderr: `bucket "nope" does not exist`},
		{name: "rmo one object", args: []string{"rmo", "ais://b/dir/o 1"},
			want:   []sent{{"DELETE", "/v1/objects/b/dir/o%201", qAIS, ""}},
			stdout: []string{"Deleted ais://b/dir/o 1"}},
		{name: "rmo --list: 501 shown", args: []string{"rmo", "ais://b", "--list", "a, b/c"},
			want: []sent{listRange(`{"template":"","objnames":["a","b/c"]}`)},
			code: ExitError, stderr: "Error: action delete-listrange is not implemented\n"},
		{name: "rmo --template", args: []string{"rmo", "--template", "ck{1..3}.txt", "ais://b"},
			want: []sent{listRange(`{"template":"ck{1..3}.txt","objnames":null}`)},
			code: ExitError, stderr: "not implemented"},
		{name: "rmo --prefix travels as a template", args: []string{"rmo", "ais://b", "--prefix", "dir/"},
			want: []sent{listRange(`{"template":"dir/","objnames":null}`)},
			code: ExitError, stderr: "not implemented"},
		{name: "rmo --list started", args: []string{"rmo", "ais://b", "--list", "a"}, jobID: "DelJob1234",
			want:   []sent{listRange(`{"template":"","objnames":["a"]}`)},
			stdout: []string{"Started removing objects from ais://b: job DelJob1234"}},
		{name: "rmo --list and --prefix", args: []string{"rmo", "ais://b", "--list", "a", "--prefix", "p"},
			code: ExitUsage, stderr: "--list and --prefix do not combine"},
		{name: "rmo --list of an object", args: []string{"rmo", "ais://b/o", "--list", "a"}, code: ExitUsage, stderr: "names an object"},
		{name: "rmo --list of two buckets", args: []string{"rmo", "ais://b", "ais://c", "--list", "a"}, code: ExitUsage, stderr: "takes one bucket"},
		{name: "rmo --list of nothing", args: []string{"rmo", "ais://b", "--list", " , "}, code: ExitUsage, stderr: "names no object"},
		{name: "rmo of a bucket", args: []string{"rmo", "ais://b"}, code: ExitUsage, stderr: "names no object"},
	})
}

func TestBucketProps(t *testing.T) {
	head := sent{"HEAD", "/v1/buckets/b", qAIS, ""}
	runCases(t, []cliCase{
		{name: "show", args: []string{"bucket", "props", "show", "ais://b"}, want: []sent{head},
			stdout: []string{"PROPERTY", "access", "18446744073709551615", "bid", "9223372036854775815",
				"checksum.type", "xxhash2", "checksum.validate_warm_get", "false", "created", time.Unix(0, 1_700_000_000_000_000_000).Local().Format(time.DateTime),
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
			want: []sent{{"HEAD", "/v1/buckets/nope", qAIS, ""}}, code: ExitError, stderr: `bucket "nope" does not exist`},
		{name: "set", args: []string{"bucket", "props", "set", "ais://b", "checksum.type=md5", "versioning.enabled=false", "mirror.copies=2", "access=123"},
			want: []sent{head, {"PATCH", "/v1/buckets/b", qAIS,
				`{"action":"set-bprops","value":{"access":"123","checksum":{"type":"md5"},"mirror":{"copies":2},"versioning":{"enabled":false}}}`}},
			stdout: []string{`"checksum.type" set to "md5" (was "xxhash2")`, `"versioning.enabled" set to false (was true)`,
				`"mirror.copies" set to 2 (was 1)`, `"access" set to "123" (was "18446744073709551615")`, "Updated the properties of ais://b"}},
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
			stdout: []string{"Reset the properties of ais://b"}},
	})
}

func TestShowClusterQueries(t *testing.T) {
	smap := sent{"GET", "/v1/daemon", "what=smap", ""}
	config := sent{"GET", "/v1/cluster", "what=cluster_config", ""}
	runCases(t, []cliCase{
		{name: "smap", args: []string{"show", "cluster", "smap"}, want: []sent{smap},
			stdout: []string{"NODE", "TYPE", "PUBLIC URL", "CONTROL URL", "DATA URL", "FLAGS",
				"p1[P]", "proxy", "http://127.0.0.1:8080", "tcp://127.0.0.1:9080",
				"t1", "target", "http://127.0.0.1:8081", "-",
				"t2", "target", "maintenance,post-rebalance",
				"Primary proxy: p1", "Proxies: 1, targets: 2, cluster map version 5, UUID stub-uuid, created 2026-01-02 03:04:05"}},
		{name: "smap --json", args: []string{"show", "cluster", "smap", "--json"}, want: []sent{smap},
			stdout: []string{`"pmap": {`, `"version": "5"`}},
		{name: "show cluster still shows the map", args: []string{"show", "cluster"}, want: []sent{smap},
			stdout: []string{"map version 5", "ROLE", "online, primary"}},
		{name: "a misspelt subcommand", args: []string{"show", "cluster", "smpa"}, code: ExitUsage, stderr: `unknown command "smpa" (want smap, bmd or config)`},
		{name: "bmd", args: []string{"show", "cluster", "bmd"}, want: []sent{{"GET", "/v1/daemon", "what=bmd", ""}},
			stdout: []string{"BUCKET", "CREATED", "CHECKSUM", "VERSIONING", "ais://b", "xxhash2", "true", "Buckets: 1, version 9, UUID bmd-uuid"}},
		{name: "bmd --json", args: []string{"show", "cluster", "bmd", "--json"}, want: []sent{{"GET", "/v1/daemon", "what=bmd", ""}},
			stdout: []string{`"providers": {`, `"ais": {`, `"@#": {`, `"b": {`}},
		{name: "config", args: []string{"show", "cluster", "config"}, want: []sent{config},
			stdout: []string{"PROPERTY", "checksum.type", "xxhash2", "checksum.validate_warm_get", "false", "config_version", "4", "log.level", "3"}},
		{name: "config KEY", args: []string{"show", "cluster", "config", "log"}, want: []sent{config},
			stdout: []string{"log.level", "3", "log.max_size", "64MiB"}, notStdout: []string{"checksum"}},
		{name: "config KEY --json", args: []string{"show", "cluster", "config", "log.level", "--json"}, want: []sent{config},
			stdout: []string{"{\n  \"log\": {\n    \"level\": \"3\"\n  }\n}\n"}},
		{name: "config no match", args: []string{"show", "cluster", "config", "nosuch"}, want: []sent{config},
			code: ExitError, stderr: `no cluster configuration key starts with "nosuch"`},
		{name: "config cluster", args: []string{"config", "cluster"}, want: []sent{config}, stdout: []string{"checksum.type", "log.level"}},
		{name: "config cluster KEY", args: []string{"config", "cluster", "checksum.type"}, want: []sent{config},
			stdout: []string{"checksum.type", "xxhash2"}, notStdout: []string{"log."}},
		{name: "config cluster KEY=VALUE", args: []string{"config", "cluster", "log.level=4", "checksum.type=md5"},
			want:   []sent{{"PUT", "/v1/cluster/set-config", "checksum.type=md5&log.level=4", ""}, config},
			stdout: []string{"Updated the cluster configuration:", "PROPERTY", "log.level", "4", "checksum.type", "md5"}},
		{name: "config cluster KEY VALUE --transient", args: []string{"config", "cluster", "log.level", "5", "--transient"},
			want:   []sent{{"PUT", "/v1/cluster/set-config", "log.level=5&transient=true", ""}, config},
			stdout: []string{"log.level", "5"}},
		{name: "config cluster a section is shown whole", args: []string{"config", "cluster", "log", "--json"}, want: []sent{config},
			stdout: []string{`"max_size": "64MiB"`}},
		{name: "config cluster rejected", args: []string{"config", "cluster", "nosuch.key=1"},
			want: []sent{{"PUT", "/v1/cluster/set-config", "nosuch.key=1", ""}},
			code: ExitError, stderr: `unknown configuration key "nosuch.key"`},
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
			stdout: []string{"NAME", "SIZE", "VERSION", "CHECKSUM", "ATIME", "a.txt", "1 B", "b.txt", "2.00 KiB", "d.txt", "Total: 4 object(s), 2.01 KiB"}},
		{name: "props in their order, limit across pages, UUID echoed",
			args: []string{"ls", "ais://b", "--props", "size,location", "--limit", "3", "--page-size", "2"},
			want: []sent{
				page(listBody("name,size,location", "", 2, "", "0")),
				page(listBody("name,size,location", "b.txt", 1, "LsUUID123", "0")),
			},
			stdout:    []string{"NAME", "SIZE", "LOCATION", "a.txt", "1 B", "t[t1]:mp[/m1]", "b.txt", "c.txt", "Total: 3 object(s), 2.00 KiB"},
			notStdout: []string{"d.txt", "CHECKSUM"}},
		{name: "limit within one page", args: []string{"ls", "ais://b", "--limit", "2"},
			want:   []sent{page(listBody(api.DefaultListProps, "", 2, "", "0"))},
			stdout: []string{"a.txt", "b.txt", "Total: 2 object(s)"}, notStdout: []string{"c.txt"}},
		{name: "name only", args: []string{"ls", "ais://b", "--name-only"}, want: []sent{page(listBody("name", "", 0, "", "16"))},
			stdout: []string{"NAME\n", "a.txt\n", "Total: 4 object(s)\n"}, notStdout: []string{"SIZE", "KiB"}},
		{name: "props name", args: []string{"ls", "ais://b", "--props", "name"}, want: []sent{page(listBody("name", "", 0, "", "16"))}},
		{name: "props all", args: []string{"ls", "ais://b", "--props", "all"}, want: []sent{page(listBody(api.ListPropsAll, "", 0, "", "0"))},
			stdout: []string{"NAME", "SIZE", "CHECKSUM", "ATIME", "VERSION", "CACHED", "STATUS", "COPIES", "CUSTOM", "LOCATION", "a.txt", "yes", "ok", "0"}},
		{name: "no recursion", args: []string{"ls", "ais://b", "--nr", "--props", "name,size"}, want: []sent{page(listBody("name,size", "", 0, "", "2048"))},
			stdout: []string{"a.txt", "1 B", "dir/", "-", "b.txt", "Total: 4 object(s), 1 virtual director(ies), 2.01 KiB"}},
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
			want:   []sent{sum("", ""), sum("SumJob123", "")},
			stdout: []string{"NAME", "OBJECTS", "SIZE ON DISK", "USAGE(%)", "ais://b", "4", "3.00 MiB", "3%"}},
		{name: "storage summary with a prefix", args: []string{"storage", "summary", "ais://b/dir/"},
			want:   []sent{sum("", "dir/"), sum("SumJob123", "dir/")},
			stdout: []string{"ais://b/dir/", "4", "3.00 MiB", "3%"}},
		{name: "ls --summary with a listing flag", args: []string{"ls", "ais://b", "--summary", "--props", "size"}, code: ExitUsage, stderr: "do not combine"},
		{name: "summary of a missing bucket", args: []string{"storage", "summary", "ais://nope"},
			want: []sent{{"GET", "/v1/buckets/nope", qAIS, `{"action":"summary-bck","value":{"uuid":"","prefix":"","cached":false,"present":true,"dont_add_remote":false}}`}},
			code: ExitError, stderr: `bucket "nope" does not exist`},
	})
}

// TestCommandsHelp checks that every new spelling is a command with help.
func TestCommandsHelp(t *testing.T) {
	h := newHarness(t)
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
