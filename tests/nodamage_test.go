package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"miniais/api"
	"miniais/api/wire"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestNoSilentDamage replays, request by request, what AIStore's CLI and
// aisloader sent that once destroyed or misreported data (object copy as an
// empty PUT, append and flush, archive members, a forged direct write to a
// non-owner followed by a delete), and shows each is now done right or
// refused with a clear status, with the object unchanged and no deleted
// object ever read back.
func TestNoSilentDamage(t *testing.T) {
	ctx := testContext(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 3, Mountpaths: 2, LogLevel: "info"})
	c := api.NewClient(cl.ProxyURL())
	bck := createBucket(t, ctx, c, "damage")
	createBucket(t, ctx, c, "other")
	orig := []byte("the original content of x\n")
	if _, err := c.PutObject(ctx, bck, "x", bytes.NewReader(orig), api.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &surfaceEnv{t: t, ctx: ctx, cl: cl, c: c, bck: bck}
	unchanged := func(t *testing.T, what string) {
		t.Helper()
		var buf bytes.Buffer
		a, err := c.GetObject(ctx, bck, "x", &buf, api.GetOptions{})
		if err != nil || !bytes.Equal(buf.Bytes(), orig) || a.Version != "1" {
			t.Errorf("after %s: x = %q (version %v), %v; want the original, version 1", what, buf.String(), a, err)
		}
	}
	absent := func(t *testing.T, name string) {
		t.Helper()
		if _, err := c.HeadObject(ctx, bck, name); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("%s exists after a refused request: %v", name, err)
		}
	}

	t.Run("ais object cp sends an empty PUT with object_to", func(t *testing.T) {
		// Once refused; now a copy: y gets x's bytes, x is not touched.
		s, _, b := e.send("PUT", e.proxy("/v1/objects/damage/x?provider=ais&object_to=ais%2F%40%23%2Fdamage%2Fy"), nil, "")
		if s != http.StatusOK {
			t.Errorf("copy: %d %s, want 200", s, b)
		}
		unchanged(t, "the copy")
		var buf bytes.Buffer
		if _, err := c.GetObject(ctx, bck, "y", &buf, api.GetOptions{}); err != nil || !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("the copy y = %q, %v; want x's content", buf.String(), err)
		}
	})
	t.Run("ais put --append and ais object concat", func(t *testing.T) {
		// The first append starts a pending version (nothing visible);
		// made-up handles are refused; x never changes without a flush.
		s, h, b := e.send("PUT", e.proxy("/v1/objects/damage/x?provider=ais&append_type=append&append_handle="), nil, "more data")
		if s != http.StatusOK || h.Get("Ais-Append-Handle") == "" {
			t.Errorf("first append: %d %s, want 200 and a handle", s, b)
		}
		unchanged(t, "an unflushed append")
		for _, step := range []struct{ query, body string }{
			{"append_type=append&append_handle=h1", "and more"},
			{"append_type=flush&append_handle=h2", ""},
		} {
			s, h, b := e.send("PUT", e.proxy("/v1/objects/damage/x?provider=ais&"+step.query), nil, step.body)
			if s != http.StatusBadRequest || h.Get("Ais-Append-Handle") != "" {
				t.Errorf("%s: %d %s, want 400 and no handle", step.query, s, b)
			}
		}
		unchanged(t, "append and flush with made-up handles")
	})
	t.Run("ais archive put and ais get --archpath", func(t *testing.T) {
		// Once refused; now a.tar is a TAR archive holding f, and x, which
		// is no archive, is never served as a member.
		s, _, b := e.send("PUT", e.proxy("/v1/objects/damage/a.tar?provider=ais&archpath=f&archmime="), nil, "member")
		if s != http.StatusOK {
			t.Errorf("archive put: %d %s", s, b)
		}
		if s, _, b := e.send("GET", e.proxy("/v1/objects/damage/a.tar?provider=ais&archpath=f"), nil, ""); s != 200 || b != "member" {
			t.Errorf("GET a.tar?archpath=f: %d %q, want the member", s, b)
		}
		absent(t, "a.tar/f")
		for _, tc := range []struct {
			q    string
			want int
		}{{"archpath=f", http.StatusBadRequest}, {"etl_name=e", http.StatusNotImplemented}} {
			if s, _, b := e.send("GET", e.proxy("/v1/objects/damage/x?provider=ais&"+tc.q), nil, ""); s != tc.want || b == string(orig) {
				t.Errorf("GET ?%s: %d %q, want %d and not the object", tc.q, s, b, tc.want)
			}
		}
		unchanged(t, "archive requests")
	})
	t.Run("aisloader PUT with its default checksum header", func(t *testing.T) {
		hdr := map[string]string{wire.HdrChecksumType: "xxhash", wire.HdrChecksumValue: "e4c191d091bd8853"}
		s, h, b := e.send("PUT", e.proxy("/v1/objects/damage/loader?provider=ais&skip_vc=true"), hdr, "hello\n")
		if s != 200 || h.Get(wire.HdrChecksumType) != "xxhash2" || h.Get(wire.HdrChecksumValue) != "e4c191d091bd8853" {
			t.Errorf("aisloader PUT: %d %v %s; want 200 with the bucket's xxhash2", s, h, b)
		}
		// Without skip_vc a wrong value is refused and nothing is stored.
		hdr[wire.HdrChecksumValue] = "0000000000000000"
		if s, _, b := e.send("PUT", e.proxy("/v1/objects/damage/loader-bad?provider=ais"), hdr, "hello\n"); s != 400 {
			t.Errorf("wrong checksum: %d %s, want 400", s, b)
		}
		absent(t, "loader-bad")
	})
	t.Run("aisloader's bucket check honours the name", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			want []string
		}{{"newbck", nil}, {"other", []string{"other"}}, {"", []string{"damage", "other"}}} {
			s, _, b := e.send("GET", e.proxy("/v1/buckets?presence=2&provider=ais"), nil, `{"action":"list","name":"`+tc.name+`","value":null}`)
			var got []wire.BucketEntry
			if err := json.Unmarshal([]byte(b), &got); s != 200 || err != nil {
				t.Fatalf("list %q: %d %s", tc.name, s, b)
			}
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("list buckets named %q: %v, want %v", tc.name, names, tc.want)
			}
		}
	})
	t.Run("forged direct writes, then a delete through the proxy", func(t *testing.T) {
		smap, err := cl.Smap(ctx)
		if err != nil {
			t.Fatal(err)
		}
		name := "forged"
		owner, _ := smap.Owner(bck.Uname(name))
		if _, err := c.PutObject(ctx, bck, name, strings.NewReader("current"), api.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, n := range cl.Targets() {
			if n.ID == owner.ID {
				continue
			}
			url := n.PublicURL + "/v1/objects/damage/" + name + "?provider=ais&"
			// AIStore's guard alone (any pid, any utm): refused, not a redirect.
			if s, _, b := e.send("PUT", url+"pid=x&utm=1", nil, "stale copy"); s != 400 {
				t.Errorf("forged redirect on %s: %d %s, want 400", n.Name, s, b)
			}
			// A genuine redirect to a target that does not own the object (as
			// by a map that changed since): sent back to the proxy, nothing
			// stored here.
			req, _ := http.NewRequestWithContext(ctx, "PUT", url+redirectQuery(t, ctx, cl), strings.NewReader("stale copy"))
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := cl.ProxyURL() + "/v1/objects/damage/" + name + "?provider=ais"; resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != want {
				t.Errorf("redirect to a non-owner %s: %d to %q, want 307 to %q", n.Name, resp.StatusCode, resp.Header.Get("Location"), want)
			}
			if code := headOn(t, ctx, n.PublicURL, bck, name); code != 404 {
				t.Errorf("non-owner %s holds a copy: HEAD %d", n.Name, code)
			}
		}
		if err := c.DeleteObject(ctx, bck, name); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetObject(ctx, bck, name, &bytes.Buffer{}, api.GetOptions{}); !errors.Is(err, cluster.ErrNotFound) {
			t.Errorf("GET after DELETE: %v, want not found", err)
		}
		entries, err := c.ListObjects(ctx, bck, api.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			if en.Name == name {
				t.Errorf("the deleted object is listed: %+v", en)
			}
		}
	})
}
