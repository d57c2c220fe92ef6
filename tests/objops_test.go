package tests

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// objEnv is what the object-operation tests share.
type objEnv struct {
	*surfaceEnv
	smap *cluster.Map
}

// raw sends one request with no Content-Type (as AIStore's client sends the
// multipart actions) and returns status, headers and body.
func (e *objEnv) raw(method, u string, hdr map[string]string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, u, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (e *objEnv) objURL(bck cluster.Bucket, name, query string) string {
	u := e.cl.ProxyURL() + api.ObjectPath(bck.Name, name) + "?provider=ais"
	if query != "" {
		u += "&" + query
	}
	return u
}

// owner returns the ID of the target that owns name.
func (e *objEnv) owner(bck cluster.Bucket, name string) string {
	n, err := e.smap.Owner(bck.Uname(name))
	if err != nil {
		e.t.Fatal(err)
	}
	return n.ID
}

// otherTarget returns a target ID other than id.
func (e *objEnv) otherTarget(id string) string {
	for tid := range e.smap.Targets {
		if tid != id {
			return tid
		}
	}
	e.t.Fatal("one target only")
	return ""
}

// mustGet reads name whole (the client verifies the xxhash2 checksum) and
// checks it against want, then a range of it.
func (e *objEnv) mustGet(bck cluster.Bucket, name string, want []byte) *api.ObjectAttrs {
	e.t.Helper()
	var buf bytes.Buffer
	a, err := e.c.GetObject(e.ctx, bck, name, &buf, api.GetOptions{})
	if err != nil {
		e.t.Fatalf("GET %s/%s: %v", bck, name, err)
	}
	if !bytes.Equal(buf.Bytes(), want) || a.Checksum.Value != xxh(want) {
		e.t.Fatalf("GET %s/%s: %d bytes, %v; want %d bytes, xxhash2 %s", bck, name, buf.Len(), a.Checksum, len(want), xxh(want))
	}
	h, err := e.c.HeadObject(e.ctx, bck, name)
	if err != nil || h.Size != int64(len(want)) || h.Checksum != a.Checksum {
		e.t.Fatalf("HEAD %s/%s: %+v %v", bck, name, h, err)
	}
	if len(want) > 10 {
		buf.Reset()
		off, n := int64(len(want)/3), int64(len(want)/3)
		if _, err := e.c.GetObject(e.ctx, bck, name, &buf, api.GetOptions{Offset: off, Length: n}); err != nil || !bytes.Equal(buf.Bytes(), want[off:off+n]) {
			e.t.Fatalf("range GET %s/%s [%d,+%d): %d bytes, %v", bck, name, off, n, buf.Len(), err)
		}
	}
	return a
}

func (e *objEnv) mustBeAbsent(bck cluster.Bucket, name string) {
	e.t.Helper()
	if _, err := e.c.HeadObject(e.ctx, bck, name); !errors.Is(err, cluster.ErrNotFound) {
		e.t.Fatalf("%s/%s exists: %v", bck, name, err)
	}
	for _, n := range e.cl.Targets() {
		if code := headOn(e.t, e.ctx, n.PublicURL, bck, name); code != 404 {
			e.t.Fatalf("target %s holds %s/%s (HEAD %d)", n.Name, bck, name, code)
		}
	}
}

// onlyOn checks that name lives on its owner alone.
func (e *objEnv) onlyOn(bck cluster.Bucket, name string) {
	e.t.Helper()
	owner := e.owner(bck, name)
	for _, n := range e.cl.Targets() {
		want := 404
		if n.ID == owner {
			want = 200
		}
		if code := headOn(e.t, e.ctx, n.PublicURL, bck, name); code != want {
			e.t.Fatalf("%s/%s on target %s (owner %s): HEAD %d, want %d", bck, name, n.ID, owner, code, want)
		}
	}
}

func objectTo(bck cluster.Bucket, name string) string {
	return wire.QparamObjectTo + "=" + url.QueryEscape(bck.Uname(name))
}

// TestObjOps runs copy, rename, append, concat, multipart upload and TAR
// archive members against a real cluster, with AIStore's request shapes
// (shared/aistore-clients.md section 5), byte-exact with checksums, on one
// target and across targets.
func TestObjOps(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, Mountpaths: 2, LogLevel: "info"})
	c := api.NewClient(cl.ProxyURL())
	b1 := createBucket(t, ctx, c, "ops1")
	b2 := createBucket(t, ctx, c, "ops2")
	smap, err := cl.Smap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &objEnv{surfaceEnv: &surfaceEnv{t: t, ctx: ctx, cl: cl, c: c, bck: b1}, smap: smap}
	sub := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			e.t = t
			f(t)
		})
	}

	sub("copy", func(t *testing.T) {
		for i, size := range []int{0, 1, 64<<10 + 3, 5 << 20} {
			src := fmt.Sprintf("copy/src-%d", i)
			data := content(src, size)
			if _, err := c.PutObject(ctx, b1, src, bytes.NewReader(data), api.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			a := e.owner(b1, src)
			for _, d := range []struct {
				what string
				bck  cluster.Bucket
				name string
			}{
				{"same bucket, same target", b1, ownedBy(t, smap, b1, a, fmt.Sprintf("copy/local-%d", i))},
				{"same bucket, another target", b1, ownedBy(t, smap, b1, e.otherTarget(a), fmt.Sprintf("copy/remote-%d", i))},
				{"another bucket, another target", b2, ownedBy(t, smap, b2, e.otherTarget(a), fmt.Sprintf("copy/dst-%d", i))},
			} {
				// ais object cp: an empty PUT with object_to, 307 to the source's owner.
				s, h, b := e.send("PUT", e.objURL(b1, src, objectTo(d.bck, d.name)), nil, "")
				if s != 200 {
					t.Fatalf("%d bytes, %s: copy %d %v %s", size, d.what, s, h, b)
				}
				e.mustGet(d.bck, d.name, data)
				e.onlyOn(d.bck, d.name)
			}
			if h, err := c.HeadObject(ctx, b1, src); err != nil || h.Version != "1" || h.Checksum.Value != xxh(data) {
				t.Fatalf("the source changed: %+v %v", h, err)
			}
		}
		// Overwriting copy; then the client method.
		if _, err := c.CopyObject(ctx, b1, "copy/src-1", b1, "copy/remote-3"); err != nil {
			t.Fatal(err)
		}
		e.mustGet(b1, "copy/remote-3", content("copy/src-1", 1))
		for _, tc := range []struct {
			name, query, body string
			want              int
		}{
			{"to a missing bucket", objectTo(cluster.NewBucket("nosuch"), "x"), "", 404},
			{"with a body", objectTo(b1, "copy/y"), "a body", 400},
			{"onto itself", objectTo(b1, "copy/src-1"), "", 400},
			{"malformed", wire.QparamObjectTo + "=ais%2Fcopy", "", 400},
			{"bad destination name", wire.QparamObjectTo + "=" + url.QueryEscape("ais/@#/ops1/a/../b"), "", 400},
			{"another provider", wire.QparamObjectTo + "=" + url.QueryEscape("s3/@#/ops1/x"), "", 501},
			{"another namespace", wire.QparamObjectTo + "=" + url.QueryEscape("ais/@uuid#ns/ops1/x"), "", 501},
			{"with append_type", objectTo(b1, "copy/z") + "&append_type=append", "", 400},
		} {
			if s, _, b := e.send("PUT", e.objURL(b1, "copy/src-1", tc.query), nil, tc.body); s != tc.want {
				t.Errorf("copy %s: %d %s, want %d", tc.name, s, b, tc.want)
			}
		}
		if s, _, b := e.send("PUT", e.objURL(b1, "copy/nosuch", objectTo(b1, "copy/w")), nil, ""); s != 404 {
			t.Errorf("copy of a missing object: %d %s", s, b)
		}
		for _, n := range []string{"copy/y", "copy/w", "copy/z"} {
			e.mustBeAbsent(b1, n)
		}
		e.mustGet(b1, "copy/src-1", content("copy/src-1", 1))
	})

	sub("rename", func(t *testing.T) {
		for i, cross := range []bool{false, true} {
			old := fmt.Sprintf("mv/old-%d", i)
			a := e.owner(b1, old)
			to := a
			if cross {
				to = e.otherTarget(a)
			}
			newName := ownedBy(t, smap, b1, to, fmt.Sprintf("mv/new-%d", i))
			data := content(old, 1<<20+i)
			if _, err := c.PutObject(ctx, b1, old, bytes.NewReader(data), api.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			// ais object mv: POST rename-obj, 307 to the owner.
			if s, _, b := e.send("POST", e.objURL(b1, old, ""), nil, `{"action":"rename-obj","name":"`+newName+`","value":null}`); s != 200 {
				t.Fatalf("rename (cross %v): %d %s", cross, s, b)
			}
			e.mustBeAbsent(b1, old)
			e.mustGet(b1, newName, data)
			e.onlyOn(b1, newName)
		}
		for _, tc := range []struct {
			name, body string
			want       int
		}{
			{"no name", `{"action":"rename-obj","name":""}`, 400},
			{"to itself", `{"action":"rename-obj","name":"mv/new-0x"}`, 400},
			{"bad name", `{"action":"rename-obj","name":"../x"}`, 400},
		} {
			name := "mv/new-0x"
			if tc.name != "to itself" {
				name = "mv/nosuch"
			}
			if s, _, b := e.send("POST", e.objURL(b1, name, ""), nil, tc.body); s != tc.want {
				t.Errorf("rename %s: %d %s, want %d", tc.name, s, b, tc.want)
			}
		}
		if s, _, b := e.send("POST", e.objURL(b1, "mv/nosuch", ""), nil, `{"action":"rename-obj","name":"mv/x"}`); s != 404 {
			t.Errorf("rename of a missing object: %d %s", s, b)
		}
	})

	sub("rename is never neither", func(t *testing.T) {
		// A large object renamed to another target's name: while the copy
		// streams, readers see the old name; the new one appears before
		// the old one goes.
		old := "mv/large"
		newName := ownedBy(t, smap, b1, e.otherTarget(e.owner(b1, old)), "mv/large-new")
		data := content(old, 48<<20)
		if _, err := c.PutObject(ctx, b1, old, bytes.NewReader(data), api.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		started := make(chan struct{})
		var neither, reads int
		var wg sync.WaitGroup
		wg.Go(func() {
			for first := true; ; first = false {
				_, errOld := c.HeadObject(ctx, b1, old)
				_, errNew := c.HeadObject(ctx, b1, newName)
				reads++
				if errOld != nil && errNew != nil {
					neither++
				}
				if first {
					close(started)
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
		<-started
		if err := c.RenameObject(ctx, b1, old, newName); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		if neither > 0 {
			t.Fatalf("%d of %d reads during the rename found neither name", neither, reads)
		}
		t.Logf("%d read pairs during the rename, none found neither name", reads)
		e.mustBeAbsent(b1, old)
		e.mustGet(b1, newName, data)
	})

	sub("append and flush", func(t *testing.T) {
		name := "app/obj"
		pieces := [][]byte{content("p1", 100<<10), content("p2", 1), content("p3", 2<<20)}
		handle := ""
		var handles []string
		for _, p := range pieces {
			s, h, b := e.send("PUT", e.objURL(b1, name, "append_type=append&append_handle="+url.QueryEscape(handle)), nil, string(p))
			handle = h.Get(wire.HdrAppendHandle)
			if s != 200 || handle == "" || slices.Contains(handles, handle) {
				t.Fatalf("append: %d handle %q (earlier %q) %s", s, handle, handles, b)
			}
			handles = append(handles, handle)
			e.mustBeAbsent(b1, name) // nothing is visible before the flush
		}
		want := slices.Concat(pieces...)
		// A stale handle is refused and changes nothing.
		if s, _, b := e.send("PUT", e.objURL(b1, name, "append_type=append&append_handle="+url.QueryEscape(handles[0])), nil, "stale"); s != 400 {
			t.Fatalf("append with a stale handle: %d %s", s, b)
		}
		hdr := map[string]string{wire.HdrChecksumType: "xxhash2", wire.HdrChecksumValue: xxh(want)}
		if s, _, b := e.send("PUT", e.objURL(b1, name, "append_type=flush&append_handle="+url.QueryEscape(handle)), hdr, ""); s != 200 {
			t.Fatalf("flush: %d %s", s, b)
		}
		e.mustGet(b1, name, want)
		e.onlyOn(b1, name)

		// An empty handle on the existing object appends to its content;
		// a flush with a wrong checksum is refused and the object stays.
		h, err := c.AppendObject(ctx, b1, name, "", strings.NewReader("tail"), api.PutOptions{Size: 4})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.FlushObject(ctx, b1, name, h, cluster.Checksum{Type: "xxhash2", Value: xxh(want)}); !errors.Is(err, cluster.ErrChecksum) {
			t.Fatalf("flush with a wrong checksum: %v", err)
		}
		e.mustGet(b1, name, want)
		h, _ = c.AppendObject(ctx, b1, name, "", strings.NewReader("tail"), api.PutOptions{Size: 4})
		if _, err := c.FlushObject(ctx, b1, name, h, cluster.Checksum{Type: "xxhash", Value: xxh(append(slices.Clone(want), "tail"...))}); err != nil {
			t.Fatal(err)
		}
		e.mustGet(b1, name, append(slices.Clone(want), "tail"...))

		// Another object's handle is refused: it never reaches its data.
		h, _ = c.AppendObject(ctx, b1, "app/other", "", strings.NewReader("secret"), api.PutOptions{Size: 6})
		if _, err := c.AppendObject(ctx, b1, "app/third", h, strings.NewReader("x"), api.PutOptions{Size: 1}); !errors.Is(err, cluster.ErrBadRequest) {
			t.Fatalf("another object's handle: %v", err)
		}
		if _, err := c.FlushObject(ctx, b1, "app/other", h, cluster.Checksum{}); err != nil {
			t.Fatal(err)
		}
		e.mustBeAbsent(b1, "app/third")
	})

	sub("concat and put --append with the CLI", func(t *testing.T) {
		dir := t.TempDir()
		var files []string
		var want []byte
		for i, size := range []int{10, 300 << 10, 0, 1 << 20} {
			f := filepath.Join(dir, fmt.Sprintf("f%d", i))
			data := content(f, size)
			os.WriteFile(f, data, 0o644)
			files = append(files, f)
			want = append(want, data...)
		}
		out := cl.RunCLI(t, append(append([]string{"object", "concat"}, files[:3]...), "ais://ops1/cat/obj")...)
		if !strings.Contains(out, "Concatenated 3 file(s)") {
			t.Errorf("concat: %q", out)
		}
		cl.RunCLI(t, "put", "--append", files[3], "ais://ops1/cat/obj")
		e.mustGet(b1, "cat/obj", want)
		cl.RunCLI(t, "put", files[0], "ais://ops1/cat/new", "--append") // a missing object is created
		e.mustGet(b1, "cat/new", content(files[0], 10))
	})

	sub("multipart", func(t *testing.T) {
		for i := range 2 { // two objects, two owners
			name := ownedBy(t, smap, b1, []string{e.owner(b1, "mpu"), e.otherTarget(e.owner(b1, "mpu"))}[i], fmt.Sprintf("mpu/obj-%d", i))
			// ais object mpu create: POST mpt-upload with no Content-Type.
			s, _, idb := e.raw("POST", e.objURL(b1, name, ""), nil, []byte(`{"value":null,"action":"mpt-upload","name":""}`))
			id := string(idb)
			if s != 200 || len(id) < 8 {
				t.Fatalf("mpt-upload: %d %q", s, idb)
			}
			parts := [][]byte{nil}
			for n := 1; n <= 7; n++ {
				parts = append(parts, content(fmt.Sprintf("%s-part-%d", name, n), (n%3+1)<<20+n))
			}
			// Parts concurrently, in reverse order.
			var wg sync.WaitGroup
			errs := make(chan string, len(parts))
			for n := len(parts) - 1; n >= 1; n-- {
				wg.Go(func() {
					u := e.objURL(b1, name, fmt.Sprintf("uploadId=%s&partNumber=%d", id, n))
					req, _ := http.NewRequestWithContext(ctx, "PUT", u, bytes.NewReader(parts[n]))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err.Error()
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- fmt.Sprintf("part %d: %d %s", n, resp.StatusCode, b)
					}
				})
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Fatal(msg)
			}
			e.mustBeAbsent(b1, name)
			ups, err := c.ListMultipartUploads(ctx, b1)
			if err != nil || !slices.ContainsFunc(ups, func(u wire.MptUpload) bool { return u.ID == id && u.Parts == 7 && u.Target == e.owner(b1, name) }) {
				t.Fatalf("uploads: %+v %v", ups, err)
			}
			var list []string
			for n := 1; n < len(parts); n++ {
				list = append(list, fmt.Sprintf(`{"etag":"","part-number":%d}`, n))
			}
			body := `{"value":[` + strings.Join(list, ",") + `],"action":"mpt-complete","name":""}`
			if s, _, b := e.raw("POST", e.objURL(b1, name, "uploadId="+id), nil, []byte(body)); s != 200 {
				t.Fatalf("mpt-complete: %d %s", s, b)
			}
			e.mustGet(b1, name, slices.Concat(parts...))
			e.onlyOn(b1, name)
			ents, err := c.ListObjects(ctx, b1, api.ListOptions{Prefix: name, Props: "name,size"})
			if err != nil || len(ents) != 1 || ents[0].Flags&wire.EntryChunked == 0 {
				t.Fatalf("listing of %s: %+v %v, want flag %d", name, ents, err, wire.EntryChunked)
			}
		}
		// Abort: the parts go, nothing is visible, no work file is left.
		id, err := c.CreateMultipartUpload(ctx, b1, "mpu/aborted")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(ctx, b1, "mpu/aborted", id, 2, bytes.NewReader(content("x", 1<<20)), 1<<20); err != nil {
			t.Fatal(err)
		}
		if s, _, b := e.raw("DELETE", e.objURL(b1, "mpu/aborted", "uploadId="+id), nil, []byte(`{"value":null,"action":"mpt-abort","name":""}`)); s != 200 {
			t.Fatalf("mpt-abort: %d %s", s, b)
		}
		e.mustBeAbsent(b1, "mpu/aborted")
		if files := workFiles(t, allMountpaths(cl)); len(files) > 0 {
			t.Fatalf("work files after the abort: %q", files)
		}
		// Refusals: unknown upload, part 0, a DELETE with uploadId but no action.
		for _, tc := range []struct {
			method, query, body string
			want                int
		}{
			{"PUT", "uploadId=0123456789abcdef&partNumber=1", "x", 404},
			{"PUT", "uploadId=" + id + "&partNumber=0", "x", 400},
			{"PUT", "uploadId=../../x&partNumber=1", "x", 400},
			{"DELETE", "uploadId=" + id, "", 400},
		} {
			if s, _, b := e.raw(tc.method, e.objURL(b1, "mpu/aborted", tc.query), nil, []byte(tc.body)); s != tc.want {
				t.Errorf("%s ?%s: %d %s, want %d", tc.method, tc.query, s, b, tc.want)
			}
		}
	})

	sub("multipart with the CLI", func(t *testing.T) {
		dir := t.TempDir()
		out := cl.RunCLI(t, "object", "mpu", "create", "ais://ops1/mpu/cli")
		id := strings.TrimSpace(strings.TrimPrefix(out, "Upload ID:"))
		var want []byte
		for n := 3; n >= 1; n-- {
			f := filepath.Join(dir, fmt.Sprint(n))
			os.WriteFile(f, content(f, n<<18), 0o644)
			cl.RunCLI(t, "object", "mpu", "put", "ais://ops1/mpu/cli", id, fmt.Sprint(n), f)
		}
		for n := 1; n <= 3; n++ {
			f := filepath.Join(dir, fmt.Sprint(n))
			want = append(want, content(f, n<<18)...)
		}
		if ls := cl.RunCLI(t, "object", "mpu", "ls", "ais://ops1"); !strings.Contains(ls, id) {
			t.Errorf("mpu ls: %q lacks %s", ls, id)
		}
		cl.RunCLI(t, "object", "mpu", "complete", "ais://ops1/mpu/cli", id, "1,2,3")
		e.mustGet(b1, "mpu/cli", want)
		out = cl.RunCLI(t, "object", "mpu", "create", "ais://ops1/mpu/cli2")
		id = strings.TrimSpace(strings.TrimPrefix(out, "Upload ID:"))
		cl.RunCLI(t, "object", "mpu", "abort", "ais://ops1/mpu/cli2", id)
		e.mustBeAbsent(b1, "mpu/cli2")
	})

	sub("archive", func(t *testing.T) {
		arch := "arch/a.tar"
		members := map[string][]byte{"inner/file": content("m1", 3000), "second": content("m2", 1<<20), "third.txt": []byte("3")}
		// ais archive put: a new archive.
		if s, _, b := e.send("PUT", e.objURL(b1, arch, "archpath=inner%2Ffile&archmime="), nil, string(members["inner/file"])); s != 200 {
			t.Fatalf("archive put: %d %s", s, b)
		}
		// Ais-Pine 1 appends (the archive must exist), 2 appends or creates.
		if s, _, b := e.send("PUT", e.objURL(b1, arch, "archpath=second&archmime="), map[string]string{"Ais-Pine": "1"}, string(members["second"])); s != 200 {
			t.Fatalf("archive append: %d %s", s, b)
		}
		if s, _, b := e.send("PUT", e.objURL(b1, arch, "archpath=third.txt&archmime="), map[string]string{"Ais-Pine": "2"}, "3"); s != 200 {
			t.Fatalf("archive append-or-put: %d %s", s, b)
		}
		for name, data := range members {
			// ais get --archpath: one member, byte-exact, and a range of it.
			s, h, b := e.raw("GET", e.objURL(b1, arch, "archpath="+url.QueryEscape(name)), nil, nil)
			if s != 200 || !bytes.Equal(b, data) || h.Get(wire.HdrChecksumValue) != "" {
				t.Fatalf("GET member %s: %d, %d bytes (want %d), checksum header %q", name, s, len(b), len(data), h.Get(wire.HdrChecksumValue))
			}
			if len(data) > 100 {
				s, _, b = e.raw("GET", e.objURL(b1, arch, "archpath="+url.QueryEscape(name)), map[string]string{"Range": "bytes=10-99"}, nil)
				if s != 206 || !bytes.Equal(b, data[10:100]) {
					t.Fatalf("range GET member %s: %d %d bytes", name, s, len(b))
				}
			}
		}
		// The archive itself is a well-formed TAR with the three files, a
		// plain object as far as GET, HEAD and checksums go.
		var whole bytes.Buffer
		if _, err := c.GetObject(ctx, b1, arch, &whole, api.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(&whole)
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("the archive does not read back: %v", err)
			}
			b, _ := io.ReadAll(tr)
			if !bytes.Equal(b, members[h.Name]) {
				t.Fatalf("member %s: %d bytes", h.Name, len(b))
			}
			names = append(names, h.Name)
		}
		if !slices.Equal(names, []string{"inner/file", "second", "third.txt"}) {
			t.Fatalf("members %q", names)
		}
		// ais ls --archive: flags "8"; the archive (512), its files (128).
		s, _, lb := e.send("GET", e.proxy("/v1/buckets/ops1?provider=ais"), nil,
			`{"action":"list","value":{"prefix":"arch/a.tar","props":"name,size","flags":"8","pagesize":0,"uuid":"","continuation_token":""}}`)
		var page wire.LsoResult
		if err := json.Unmarshal([]byte(lb), &page); s != 200 || err != nil {
			t.Fatalf("archive listing: %d %s", s, lb)
		}
		var got []string
		for _, en := range page.Entries {
			got = append(got, fmt.Sprintf("%s:%d", en.Name, en.Flags&(wire.EntryInArch|wire.EntryIsArchive)))
		}
		if want := []string{"arch/a.tar:512", "arch/a.tar/inner/file:128", "arch/a.tar/second:128", "arch/a.tar/third.txt:128"}; !slices.Equal(got, want) {
			t.Fatalf("listing %q, want %q", got, want)
		}
		if out := cl.RunCLI(t, "ls", "ais://ops1/arch/", "--archive"); !strings.Contains(out, "arch/a.tar/inner/file") {
			t.Errorf("ais ls --archive: %q", out)
		}
		// Refusals: append to a missing archive, other formats, archregx.
		for _, tc := range []struct {
			name, obj, query string
			hdr              map[string]string
			want             int
		}{
			{"append to a missing archive", "arch/none.tar", "archpath=f&archmime=", map[string]string{"Ais-Pine": "1"}, 404},
			{"tgz", "arch/a.tgz", "archpath=f&archmime=", nil, 501},
			{"zip mime", "arch/b.tar", "archpath=f&archmime=application%2Fzip", nil, 501},
			{"no format", "arch/b", "archpath=f&archmime=", nil, 400},
			{"bad member name", "arch/b.tar", "archpath=..%2Fx&archmime=", nil, 400},
			{"bad pine", "arch/b.tar", "archpath=f&archmime=", map[string]string{"Ais-Pine": "7"}, 400},
			{"pine without archpath", "arch/b.tar", "", map[string]string{"Ais-Pine": "1"}, 400},
		} {
			if s, _, b := e.send("PUT", e.objURL(b1, tc.obj, tc.query), tc.hdr, "data"); s != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.name, s, b, tc.want)
			}
			e.mustBeAbsent(b1, tc.obj)
		}
		if s, _, b := e.raw("GET", e.objURL(b1, arch, "archpath=second&archregx=.%2A"), nil, nil); s != 501 {
			t.Errorf("archregx: %d %s, want 501", s, b)
		}
		if s, _, b := e.raw("GET", e.objURL(b1, arch, "archpath=nosuch"), nil, nil); s != 404 {
			t.Errorf("missing member: %d %s, want 404", s, b)
		}
		// Without Ais-Pine an archive PUT makes a new archive of the one
		// file, replacing the object, as AIStore's target does.
		if s, _, b := e.send("PUT", e.objURL(b1, arch, "archpath=only&archmime="), nil, "alone"); s != 200 {
			t.Fatalf("archive put over an existing archive: %d %s", s, b)
		}
		if s, _, b := e.raw("GET", e.objURL(b1, arch, "archpath=second"), nil, nil); s != 404 {
			t.Errorf("the replaced archive still has its old files: %d %d bytes", s, len(b))
		}
		// The CLI: archive put --append, get --archpath.
		dir := t.TempDir()
		f := filepath.Join(dir, "from-cli.bin")
		os.WriteFile(f, content(f, 70000), 0o644)
		cl.RunCLI(t, "archive", "put", f, "ais://ops1/"+arch, "--archpath", "cli/file", "--append")
		outFile := filepath.Join(dir, "out")
		cl.RunCLI(t, "get", "ais://ops1/"+arch, outFile, "--archpath", "cli/file")
		if b, _ := os.ReadFile(outFile); !bytes.Equal(b, content(f, 70000)) {
			t.Fatalf("ais get --archpath: %d bytes", len(b))
		}
	})

	if files := workFiles(t, allMountpaths(cl)); len(files) > 0 {
		t.Errorf("work files left by TestObjOps: %q", files)
	}
}

// TestObjOpsTimeout: an unflushed append and an abandoned multipart upload
// are removed after -upload_timeout, work files included, and their
// handle and ID are refused afterwards.
func TestObjOpsTimeout(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 2, Mountpaths: 2, LogLevel: "info", TargetArgs: []string{"-upload_timeout=1s"}})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "timeout")
	h, err := c.AppendObject(ctx, bck, "pending", "", bytes.NewReader(content("a", 1<<20)), api.PutOptions{Size: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateMultipartUpload(ctx, bck, "abandoned")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, bck, "abandoned", id, 1, bytes.NewReader(content("p", 1<<20)), 1<<20); err != nil {
		t.Fatal(err)
	}
	mps := allMountpaths(cl)
	if files := workFiles(t, mps); len(files) != 2 {
		t.Fatalf("work files %q, want the append's and the upload's", files)
	}
	start := time.Now()
	if !waitUntil(30*time.Second, func() bool { return len(workFiles(t, mps)) == 0 }) {
		t.Fatalf("work files still there after 30 s: %q", workFiles(t, mps))
	}
	t.Logf("work files removed %v after the last write (timeout 1s)", time.Since(start).Round(10*time.Millisecond))
	if _, err := c.FlushObject(ctx, bck, "pending", h, cluster.Checksum{}); !errors.Is(err, cluster.ErrBadRequest) {
		t.Errorf("flush after the timeout: %v, want 400", err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, bck, "abandoned", id, []int{1}); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("complete after the timeout: %v, want 404", err)
	}
	for _, n := range []string{"pending", "abandoned"} {
		if _, err := c.HeadObject(ctx, bck, n); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("%s is visible: %v", n, err)
		}
	}
}

// The examples of TestSurface for the object operations (surface_test.go
// keys them by row); each shows its row working and checks what it did.

// surfaceCopy copies x to x-copy with object_to.
func (e *surfaceEnv) surfaceCopy() (int, string) {
	s, _, b := e.send("PUT", e.obj(objectTo(e.bck, "x-copy")), nil, "")
	var buf bytes.Buffer
	if _, err := e.c.GetObject(e.ctx, e.bck, "x-copy", &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), surfaceContent) {
		e.t.Errorf("copy of x: %q, %v", firstN(buf.String(), 100), err)
	}
	return s, b
}

// surfaceAppend appends twice to object name and flushes it.
func (e *surfaceEnv) surfaceAppend(name string) (int, string) {
	base := e.proxy("/v1/objects/" + e.bck.Name + "/" + name)
	s, h, b := e.send("PUT", base+"?append_type=append&append_handle=", nil, "one ")
	if s != 200 {
		return s, b
	}
	if s, h, b = e.send("PUT", base+"?append_type=append&append_handle="+url.QueryEscape(h.Get(wire.HdrAppendHandle)), nil, "two"); s != 200 {
		return s, b
	}
	s, _, b = e.send("PUT", base+"?append_type=flush&append_handle="+url.QueryEscape(h.Get(wire.HdrAppendHandle)), nil, "")
	var buf bytes.Buffer
	if _, err := e.c.GetObject(e.ctx, e.bck, name, &buf, api.GetOptions{}); err != nil || buf.String() != "one two" {
		e.t.Errorf("after append, append, flush: %q, %v", buf.String(), err)
	}
	return s, b
}

// surfaceArchive adds a member to an archive (with mime and pine as given)
// and reads it back.
func (e *surfaceEnv) surfaceArchive(mime string, hdr map[string]string) (int, string) {
	s, _, b := e.send("PUT", e.proxy("/v1/objects/"+e.bck.Name+"/s.tar?archpath=in%2Ff&archmime="+url.QueryEscape(mime)), hdr, "member data")
	if s != 200 {
		return s, b
	}
	s2, _, got := e.send("GET", e.proxy("/v1/objects/"+e.bck.Name+"/s.tar?archpath=in%2Ff"), nil, "")
	if s2 != 200 || got != "member data" {
		e.t.Errorf("archive member: %d %q", s2, got)
	}
	return s, b
}

// surfaceMultipart runs a two-part upload to "mpu" with AIStore's requests.
func (e *surfaceEnv) surfaceMultipart() (int, string) {
	s, _, id := e.send("POST", e.proxy("/v1/objects/"+e.bck.Name+"/mpu"), nil, `{"action":"mpt-upload","value":null,"name":""}`)
	if s != 200 {
		return s, id
	}
	for n, part := range []string{"", "first ", "second"} {
		if n == 0 {
			continue
		}
		if s, _, b := e.send("PUT", e.proxy(fmt.Sprintf("/v1/objects/%s/mpu?uploadId=%s&partNumber=%d", e.bck.Name, id, n)), nil, part); s != 200 {
			return s, b
		}
	}
	s, _, b := e.send("POST", e.proxy("/v1/objects/"+e.bck.Name+"/mpu?uploadId="+id), nil,
		`{"action":"mpt-complete","value":[{"etag":"","part-number":2},{"etag":"","part-number":1}],"name":""}`)
	var buf bytes.Buffer
	if _, err := e.c.GetObject(e.ctx, e.bck, "mpu", &buf, api.GetOptions{}); err != nil || buf.String() != "first second" {
		e.t.Errorf("multipart object: %q, %v", buf.String(), err)
	}
	return s, b
}

// surfaceAbort starts an upload to "aborted", sends a part and aborts it.
func (e *surfaceEnv) surfaceAbort() (int, string) {
	id, err := e.c.CreateMultipartUpload(e.ctx, e.bck, "aborted")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.c.UploadPart(e.ctx, e.bck, "aborted", id, 1, strings.NewReader("part"), 4); err != nil {
		e.t.Fatal(err)
	}
	s, _, b := e.send("DELETE", e.proxy("/v1/objects/"+e.bck.Name+"/aborted?uploadId="+id), nil, `{"action":"mpt-abort","value":null,"name":""}`)
	if _, err := e.c.CompleteMultipartUpload(e.ctx, e.bck, "aborted", id, []int{1}); !errors.Is(err, cluster.ErrNotFound) {
		e.t.Errorf("complete after abort: %v, want not found", err)
	}
	return s, b
}

// surfaceRename renames a fresh object and checks both names.
func (e *surfaceEnv) surfaceRename() (int, string) {
	if _, err := e.c.PutObject(e.ctx, e.bck, "to-rename", strings.NewReader("renamed content"), api.PutOptions{}); err != nil {
		e.t.Fatal(err)
	}
	s, _, b := e.send("POST", e.proxy("/v1/objects/"+e.bck.Name+"/to-rename"), nil, `{"action":"rename-obj","name":"renamed","value":null}`)
	if _, err := e.c.HeadObject(e.ctx, e.bck, "to-rename"); !errors.Is(err, cluster.ErrNotFound) {
		e.t.Errorf("the old name is still there: %v", err)
	}
	var buf bytes.Buffer
	if _, err := e.c.GetObject(e.ctx, e.bck, "renamed", &buf, api.GetOptions{}); err != nil || buf.String() != "renamed content" {
		e.t.Errorf("the new name: %q, %v", buf.String(), err)
	}
	return s, b
}

// surfaceUploads lists a target's uploads in progress (miniais).
func (e *surfaceEnv) surfaceUploads() (int, string) {
	id, err := e.c.CreateMultipartUpload(e.ctx, e.bck, "listed")
	if err != nil {
		e.t.Fatal(err)
	}
	defer e.c.AbortMultipartUpload(e.ctx, e.bck, "listed", id)
	owner, _ := e.smap.Owner(e.bck.Uname("listed"))
	s, _, b := e.send("GET", owner.URL()+"/v1/buckets/"+e.bck.Name+"?provider=ais&uploads=true", nil, "")
	if !strings.Contains(b, id) {
		e.t.Errorf("uploads of %s: %s lacks %s", owner.ID, b, id)
	}
	return s, b
}
