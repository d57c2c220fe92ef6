package tests

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/server"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// surfaceEnv is what the examples of TestSurface need.
type surfaceEnv struct {
	t      *testing.T
	ctx    context.Context
	cl     *harness.Cluster
	c      *api.Client
	bck    cluster.Bucket
	target *harness.Node // the owner of surfaceObject
	other  *harness.Node // a target that does not own it
	smap   *cluster.Map
}

// surfaceObject is the object the examples act on; its content must never
// change under a refused request.
const surfaceObject = "x"

var surfaceContent = []byte("the content of x, which no refused request may touch\n")

// send sends one request and returns the status, headers and body.
func (e *surfaceEnv) send(method, url string, hdr map[string]string, body string) (int, http.Header, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != "" && strings.HasPrefix(body, "{") {
		req.Header.Set("Content-Type", wire.ContentJSON)
	}
	resp, err := http.DefaultClient.Do(req) // follows the proxy's redirects, re-sending the body
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, string(b)
}

func (e *surfaceEnv) proxy(path string) string { return e.cl.ProxyURL() + path }
func (e *surfaceEnv) obj(query string) string {
	return e.proxy("/v1/objects/" + e.bck.Name + "/" + surfaceObject + "?" + query)
}
func (e *surfaceEnv) bucket(query string) string {
	return e.proxy("/v1/buckets/" + e.bck.Name + "?" + query)
}

// example exercises one Surface row: it returns the status it got; check,
// when set, verifies what an implemented or hinted name did.
type example func(e *surfaceEnv) (status int, body string)

// surfaceExamples has one request for every row of server.Surface, keyed by
// "in:name". A refused row's request would change something if the node
// ignored the name; an implemented row's request shows it working.
var surfaceExamples = map[string]example{
	// Implemented object operations (objops_test.go has the flows).
	"query:object_to":     func(e *surfaceEnv) (int, string) { return e.surfaceCopy() },
	"query:append_type":   func(e *surfaceEnv) (int, string) { return e.surfaceAppend("appended-1") },
	"query:append_handle": func(e *surfaceEnv) (int, string) { return e.surfaceAppend("appended-2") },
	"query:archpath":      func(e *surfaceEnv) (int, string) { return e.surfaceArchive("", nil) },
	"query:archmime":      func(e *surfaceEnv) (int, string) { return e.surfaceArchive("application/x-tar", nil) },
	"query:uploadId":      func(e *surfaceEnv) (int, string) { return e.surfaceMultipart() },
	"query:partNumber":    func(e *surfaceEnv) (int, string) { return e.surfaceMultipart() },
	"query:uploads":       func(e *surfaceEnv) (int, string) { return e.surfaceUploads() },
	"header:Ais-Pine": func(e *surfaceEnv) (int, string) {
		return e.surfaceArchive("", map[string]string{"Ais-Pine": "2"})
	},
	"action:rename-obj":   func(e *surfaceEnv) (int, string) { return e.surfaceRename() },
	"action:mpt-upload":   func(e *surfaceEnv) (int, string) { return e.surfaceMultipart() },
	"action:mpt-complete": func(e *surfaceEnv) (int, string) { return e.surfaceMultipart() },
	"action:mpt-abort":    func(e *surfaceEnv) (int, string) { return e.surfaceAbort() },

	// Refused query parameters: each would read, write or copy something
	// else if ignored.
	"query:archregx": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.obj("archregx=.*"), nil, "")
		return s, b
	},
	"query:archmode": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.obj("archmode=prefix"), nil, "")
		return s, b
	},
	"query:etl_name": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.obj("etl_name=upper"), nil, "")
		return s, b
	},
	// Implemented jobs (jobs_test.go has the flows).
	"query:bck_to":            func(e *surfaceEnv) (int, string) { return e.surfaceBucketCopy("surface-bckto") },
	"action:copy-bck":         func(e *surfaceEnv) (int, string) { return e.surfaceBucketCopy("surface-copy") },
	"action:make-n-copies":    (*surfaceEnv).surfaceMakeNCopies, // mirror_test.go
	"action:move-bck":         func(e *surfaceEnv) (int, string) { return e.surfaceBucketMove() },
	"action:delete-listrange": func(e *surfaceEnv) (int, string) { return e.surfaceDeleteRange() },
	"action:start":            func(e *surfaceEnv) (int, string) { return e.surfaceStartRebalance() },
	"action:stop":             func(e *surfaceEnv) (int, string) { return e.surfaceStop() },
	"query:validate-checksum": func(e *surfaceEnv) (int, string) {
		s, h, _ := e.send("HEAD", e.obj("validate-checksum=true"), nil, "")
		return s, h.Get(wire.HdrError)
	},
	"query:latest": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.obj("latest=true"), nil, "")
		return s, b
	},
	"query:mountpath_label": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("PUT", e.target.PublicURL+"/v1/daemon/mountpaths?mountpath_label=L", nil, `{"action":"attach-mp","value":"/tmp/nope"}`)
		return s, b
	},
	"query:dntres":      func(e *surfaceEnv) (int, string) { return e.mountpathCycle("detach-mp") },
	"action:attach-mp":  func(e *surfaceEnv) (int, string) { return e.mountpathCycle("attach-mp") },
	"action:detach-mp":  func(e *surfaceEnv) (int, string) { return e.mountpathCycle("detach-mp") },
	"action:disable-mp": func(e *surfaceEnv) (int, string) { return e.mountpathCycle("disable-mp") },
	"action:enable-mp":  func(e *surfaceEnv) (int, string) { return e.mountpathCycle("enable-mp") },

	// Implemented and hinted query parameters.
	"query:provider": func(e *surfaceEnv) (int, string) {
		return e.getX("provider=ais")
	},
	"query:what": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.proxy("/v1/daemon?what=smap"), nil, "")
		if !strings.Contains(b, e.target.ID) {
			e.t.Errorf("what=smap: the map %q does not name target %s", firstN(b, 200), e.target.ID)
		}
		return s, b
	},
	"query:readiness": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.proxy("/v1/health?readiness=true"), nil, "")
		return s, b
	},
	"query:presence": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.proxy("/v1/buckets?presence=2"), nil, `{"action":"list","name":""}`)
		if !strings.Contains(b, `"`+e.bck.Name+`"`) {
			e.t.Errorf("presence=2: bucket %s not listed in %s", e.bck.Name, b)
		}
		return s, b
	},
	"query:props": func(e *surfaceEnv) (int, string) {
		s, h, _ := e.send("HEAD", e.obj("presence=2&props=name,size,checksum,atime"), nil, "")
		if h.Get("Content-Length") != fmt.Sprint(len(surfaceContent)) || h.Get(wire.HdrChecksumValue) == "" || h.Get(wire.HdrAtime) == "" {
			e.t.Errorf("HEAD props: headers %v", h)
		}
		return s, ""
	},
	"query:skip_vc": func(e *surfaceEnv) (int, string) {
		// aisloader's PUT: a checksum that would not match, not verified.
		s, _, b := e.send("PUT", e.proxy("/v1/objects/"+e.bck.Name+"/skipvc?skip_vc=true"),
			map[string]string{wire.HdrChecksumType: "xxhash", wire.HdrChecksumValue: "0000000000000001"}, "loader data")
		return s, b
	},
	"query:smap": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.target.PublicURL+"/v1/objects/"+e.bck.Name+"/"+surfaceObject+"?smap="+fmt.Sprint(e.smap.Version), nil, "")
		if b != string(surfaceContent) {
			e.t.Errorf("direct GET: %q", firstN(b, 100))
		}
		return s, b
	},
	"query:uuid": func(e *surfaceEnv) (int, string) {
		return e.summaryHead("")
	},
	"query:bsumm_remote": func(e *surfaceEnv) (int, string) {
		return e.summaryHead("")
	},
	"query:dont_add_remote_bck_md": func(e *surfaceEnv) (int, string) {
		s, h, _ := e.send("HEAD", e.bucket("dont_add_remote_bck_md=true"), nil, "")
		if h.Get(wire.HdrBucketProps) == "" {
			e.t.Errorf("HEAD bucket: no %s", wire.HdrBucketProps)
		}
		return s, ""
	},
	"query:sln": func(e *surfaceEnv) (int, string) {
		s, _, _ := e.send("HEAD", e.obj("sln=true"), nil, "")
		return s, ""
	},
	"query:pid": func(e *surfaceEnv) (int, string) {
		return e.redirectedPut()
	},
	"query:utm": func(e *surfaceEnv) (int, string) {
		return e.redirectedPut()
	},
	"query:traceparent": func(e *surfaceEnv) (int, string) {
		return e.getX("traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	},
	"query:tracestate": func(e *surfaceEnv) (int, string) {
		return e.getX("tracestate=k%3Dv")
	},
	"query:baggage": func(e *surfaceEnv) (int, string) {
		return e.getX("baggage=k%3Dv")
	},
	"query:transient": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("PUT", e.proxy("/v1/cluster/set-config?tracing.sampler_probability=1&transient=true"), nil, "")
		return s, b
	},

	// Implemented headers.
	"header:Ais-Checksum-Type": func(e *surfaceEnv) (int, string) {
		return e.checksumPuts()
	},
	"header:Ais-Checksum-Value": func(e *surfaceEnv) (int, string) {
		return e.checksumPuts()
	},
	"header:Ais-Node-Id": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.proxy("/v1/reverse/daemon?what=snode"), map[string]string{"Ais-Node-Id": e.target.ID}, "")
		if !strings.Contains(b, e.target.ID) {
			e.t.Errorf("reverse snode: %q does not name %s", firstN(b, 200), e.target.ID)
		}
		return s, b
	},
	"header:Ais-Caller-Name": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.proxy("/v1/objects/"+e.bck.Name+"/nosuch"), map[string]string{"Ais-Caller-Name": "surface-test"}, "")
		var he wire.HTTPError
		if json.Unmarshal([]byte(b), &he); he.Caller != "surface-test" || s != 404 {
			e.t.Errorf("caller: %d %q", s, b)
		}
		return 200, b
	},
	"header:Ais-Local-Only": func(e *surfaceEnv) (int, string) {
		// On a target that does not own x: its own disks only, so 404
		// (without the header: 421 naming the owner).
		s, _, _ := e.send("HEAD", e.other.PublicURL+"/v1/objects/"+e.bck.Name+"/"+surfaceObject, map[string]string{"Ais-Local-Only": "true"}, "")
		if s != 404 {
			e.t.Errorf("local-only HEAD on a non-owner: %d, want 404", s)
		}
		s2, _, _ := e.send("HEAD", e.other.PublicURL+"/v1/objects/"+e.bck.Name+"/"+surfaceObject, nil, "")
		if s2 != http.StatusMisdirectedRequest {
			e.t.Errorf("HEAD on a non-owner: %d, want 421", s2)
		}
		return 200, ""
	},
	"header:Ais-Trace-Force": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.obj(""), map[string]string{"Ais-Trace-Force": "true"}, "")
		return s, b
	},

	// Implemented actions.
	"action:list": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("GET", e.bucket(""), nil, `{"action":"list","value":{"props":"name"}}`)
		if !strings.Contains(b, `"`+surfaceObject+`"`) {
			e.t.Errorf("listing: %q", firstN(b, 200))
		}
		return s, b
	},
	"action:create-bck": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("POST", e.proxy("/v1/buckets/surface-tmp"), nil, `{"action":"create-bck"}`)
		return s, b
	},
	"action:destroy-bck": func(e *surfaceEnv) (int, string) {
		e.send("POST", e.proxy("/v1/buckets/surface-tmp2"), nil, `{"action":"create-bck"}`)
		s, _, b := e.send("DELETE", e.proxy("/v1/buckets/surface-tmp2"), nil, `{"action":"destroy-bck"}`)
		return s, b
	},
	"action:set-bprops": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("PATCH", e.bucket(""), nil, `{"action":"set-bprops","value":{"checksum":{"validate_warm_get":true}}}`)
		return s, b
	},
	"action:reset-bprops": func(e *surfaceEnv) (int, string) {
		s, _, b := e.send("PATCH", e.bucket(""), nil, `{"action":"reset-bprops","value":null}`)
		if p, err := e.c.HeadBucket(e.ctx, e.bck); err != nil || p.Checksum.ValidateWarmGet {
			e.t.Errorf("after reset-bprops: %+v, %v", p, err)
		}
		return s, b
	},
	"action:summary-bck": func(e *surfaceEnv) (int, string) {
		s, _, id := e.send("GET", e.bucket(""), nil, `{"action":"summary-bck","value":{"uuid":"","prefix":"","cached":false,"present":true,"dont_add_remote":false}}`)
		if s != http.StatusAccepted || id == "" {
			e.t.Errorf("summary-bck: %d %q, want 202 and a job ID", s, id)
			return s, id
		}
		var res []wire.BucketSummary
		ok := waitUntil(10*time.Second, func() bool {
			st, _, b := e.send("GET", e.bucket(""), nil, `{"action":"summary-bck","value":{"uuid":"`+id+`"}}`)
			return st == 200 && json.Unmarshal([]byte(b), &res) == nil
		})
		if !ok || len(res) != 1 || res[0].ObjCount.Present == 0 || res[0].TotalSize.PresentObjs == 0 {
			e.t.Errorf("summary result: %+v", res)
		}
		return 200, ""
	},
}

// refusedActions maps each refused action to the route AIStore sends it on.
var refusedActions = map[string]struct{ method, route string }{
	"delete-listrange": {"DELETE", "bucket"}, "evict-listrange": {"DELETE", "bucket"}, "evict-remote-bck": {"DELETE", "bucket"},
	"copy-listrange": {"POST", "bucket"}, "copy-bck": {"POST", "bucket"}, "move-bck": {"POST", "bucket"},
	"prefetch-listrange": {"POST", "bucket"}, "archive": {"PUT", "bucket"},
	"start": {"PUT", "cluster"}, "stop": {"PUT", "cluster"}, "start-maintenance": {"PUT", "cluster"},
	"stop-maintenance": {"PUT", "cluster"}, "shutdown-node": {"PUT", "cluster"}, "decommission-node": {"PUT", "cluster"},
	"shutdown": {"PUT", "cluster"}, "rm-unsafe": {"PUT", "cluster"},
	"rescan-mp": {"POST", "mountpaths"}, "fshc-mp": {"POST", "mountpaths"},
}

// mountpathCycle attaches a fresh directory to the target, disables,
// enables and detaches it, all with dntres=true (no resilver: nothing on
// the other mountpaths moves), and returns the status and body of action.
func (e *surfaceEnv) mountpathCycle(action string) (int, string) {
	dir := e.t.TempDir()
	var status int
	var body string
	for _, step := range []struct{ method, action string }{
		{"PUT", "attach-mp"}, {"POST", "disable-mp"}, {"POST", "enable-mp"}, {"DELETE", "detach-mp"},
	} {
		s, _, b := e.send(step.method, e.target.PublicURL+"/v1/daemon/mountpaths?dntres=true", nil, `{"action":"`+step.action+`","value":"`+dir+`"}`)
		if s != http.StatusOK {
			e.t.Errorf("%s %s: %d %s", step.method, step.action, s, b)
		}
		if step.action == action {
			status, body = s, b
		}
	}
	return status, body
}

func (e *surfaceEnv) refusedAction(action string) (int, string) {
	ra, ok := refusedActions[action]
	if !ok {
		e.t.Fatalf("no route for the refused action %q in refusedActions", action)
	}
	var url string
	value := `{"objnames":["` + surfaceObject + `"],"template":""}`
	switch ra.route {
	case "object":
		url = e.obj("")
		value = `[{"etag":"","part-number":1}]`
	case "bucket":
		url = e.bucket("")
	case "cluster":
		url = e.proxy("/v1/cluster")
		value = `{"sid":"","sids":["` + e.target.ID + `"]}`
	case "mountpaths":
		url = e.target.PublicURL + "/v1/daemon/mountpaths"
		value = `"` + e.target.Mountpaths[0] + `"`
	}
	s, _, b := e.send(ra.method, url, nil, `{"action":"`+action+`","name":"y","value":`+value+`}`)
	return s, b
}

func (e *surfaceEnv) getX(query string) (int, string) {
	s, _, b := e.send("GET", e.obj(query), nil, "")
	if b != string(surfaceContent) {
		e.t.Errorf("GET x?%s: %q", query, firstN(b, 100))
	}
	return s, b
}

// redirectedPut writes straight to the owner with a proxy's redirect query.
func (e *surfaceEnv) redirectedPut() (int, string) {
	name := ownedBy(e.t, e.smap, e.bck, e.target.ID, "redirected")
	s, _, b := e.send("PUT", e.target.PublicURL+"/v1/objects/"+e.bck.Name+"/"+name+"?"+redirectQuery(e.t, e.ctx, e.cl), nil, "via a redirect")
	return s, b
}

// checksumPuts PUTs with each checksum type AIStore's clients send: a right
// value is stored, a wrong one refused.
func (e *surfaceEnv) checksumPuts() (int, string) {
	data := []byte("hello\n")
	m := md5.Sum(data)
	sh := sha256.Sum256(data)
	for _, ck := range []struct{ typ, value string }{
		{"xxhash", "e4c191d091bd8853"}, {"xxhash2", "e4c191d091bd8853"},
		{"md5", hex.EncodeToString(m[:])}, {"sha256", hex.EncodeToString(sh[:])},
	} {
		url := e.proxy("/v1/objects/" + e.bck.Name + "/cksum-" + ck.typ)
		if s, _, b := e.send("PUT", url, map[string]string{wire.HdrChecksumType: ck.typ, wire.HdrChecksumValue: ck.value}, string(data)); s != 200 {
			e.t.Errorf("PUT with a right %s: %d %s", ck.typ, s, b)
		}
		bad := strings.Repeat("0", len(ck.value))
		if s, _, b := e.send("PUT", url+"-bad", map[string]string{wire.HdrChecksumType: ck.typ, wire.HdrChecksumValue: bad}, string(data)); s != 400 {
			e.t.Errorf("PUT with a wrong %s: %d %s, want 400", ck.typ, s, b)
		}
	}
	return 200, ""
}

// summaryHead runs AIStore's HEAD summary protocol to the end.
func (e *surfaceEnv) summaryHead(prefix string) (int, string) {
	path := e.proxy("/v1/buckets/" + e.bck.Name + prefix + "?bsumm_remote=false&presence=2")
	s, h, _ := e.send("HEAD", path, nil, "")
	id := h.Get(wire.HdrXactionID)
	if s != http.StatusAccepted || id == "" {
		e.t.Errorf("summary HEAD: %d, job %q; want 202 and a job ID", s, id)
		return s, ""
	}
	var sum wire.BucketSummary
	if !waitUntil(10*time.Second, func() bool {
		st, h, _ := e.send("HEAD", path+"&uuid="+id, nil, "")
		return st == 200 && json.Unmarshal([]byte(h.Get(wire.HdrBucketSumm)), &sum) == nil
	}) || sum.ObjCount.Present == 0 {
		e.t.Errorf("summary HEAD result: %+v", sum)
	}
	return 200, ""
}

// ownedBy returns a name with prefix that target id owns under smap.
func ownedBy(t testing.TB, smap *cluster.Map, bck cluster.Bucket, id, prefix string) string {
	t.Helper()
	for i := range 10000 {
		name := fmt.Sprintf("%s-%d", prefix, i)
		if n, _ := smap.Owner(bck.Uname(name)); n != nil && n.ID == id {
			return name
		}
	}
	t.Fatalf("no name owned by %s", id)
	return ""
}

// diskState is every file under the targets' mountpaths with its content
// hash, and the object's attributes: what a refused request must not change.
func diskState(t testing.TB, cl *harness.Cluster) []string {
	t.Helper()
	var out []string
	for _, n := range cl.Targets() {
		for _, mp := range n.Mountpaths {
			filepath.WalkDir(mp, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(p)
				h := sha256.Sum256(b)
				out = append(out, p+" "+hex.EncodeToString(h[:8]))
				return nil
			})
		}
	}
	slices.Sort(out)
	return out
}

// TestSurface walks server.Surface, the table of every query parameter,
// header and action AIStore's clients send: a refused name gets 501 naming
// it, and nothing on any target's disks changes; an implemented or hinted
// one works (each example checks what it did). Every row needs an example.
func TestSurface(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, Mountpaths: 2, LogLevel: "info"})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "surface")
	if _, err := c.PutObject(ctx, bck, surfaceObject, bytes.NewReader(surfaceContent), api.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	smap, err := cl.Smap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := smap.Owner(bck.Uname(surfaceObject))
	e := &surfaceEnv{t: t, ctx: ctx, cl: cl, c: c, bck: bck, smap: smap}
	for _, n := range cl.Targets() {
		if n.ID == owner.ID {
			e.target = n
		} else {
			e.other = n
		}
	}
	for _, row := range server.Surface {
		t.Run(row.In+" "+row.Name+" "+row.Support.String(), func(t *testing.T) {
			e.t = t
			ex := surfaceExamples[row.In+":"+row.Name]
			if row.In == server.InAction && row.Support == server.Refused {
				ex = func(e *surfaceEnv) (int, string) { return e.refusedAction(row.Name) }
			}
			if ex == nil {
				t.Fatalf("no example request for %s %q", row.In, row.Name)
			}
			before := diskState(t, cl)
			status, body := ex(e)
			switch row.Support {
			case server.Refused:
				if status != http.StatusNotImplemented || !strings.Contains(body, row.Name) {
					t.Errorf("%s %q: %d %s, want 501 naming it", row.In, row.Name, status, firstN(body, 300))
				}
				if after := diskState(t, cl); !slices.Equal(before, after) {
					t.Errorf("%s %q was refused but the disks changed:\nbefore %q\nafter  %q", row.In, row.Name, before, after)
				}
				var buf bytes.Buffer
				if _, err := c.GetObject(ctx, bck, surfaceObject, &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), surfaceContent) {
					t.Errorf("after %q: x = %q, %v", row.Name, firstN(buf.String(), 100), err)
				}
			default:
				if status >= 300 && status != http.StatusAccepted {
					t.Errorf("%s %q (%s): %d %s", row.In, row.Name, row.Support, status, firstN(body, 300))
				}
			}
		})
	}
}
