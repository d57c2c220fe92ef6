package jaegerquery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadFixture decodes testdata/trace.json as Client does (numbers as
// json.Number): a root, a child on another service, a grandchild, a span
// that only FOLLOWS_FROM the child, and an orphan whose parent is missing.
func loadFixture(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "trace.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func ids(spans []*Span) string {
	var s []string
	for _, sp := range spans {
		s = append(s, sp.SpanID)
	}
	return strings.Join(s, ",")
}

func TestTraceHelpers(t *testing.T) {
	var reply Response[Trace]
	dec := json.NewDecoder(bytes.NewReader(loadFixture(t)))
	dec.UseNumber()
	if err := dec.Decode(&reply); err != nil {
		t.Fatal(err)
	}
	tr := &reply.Data[0]
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"root", ids(tr.Roots()), "01"},
		{"children of root", ids(tr.Children(tr.Span("01"))), "02"},
		{"children of the server span, FOLLOWS_FROM included", ids(tr.Children(tr.Span("02"))), "03,04"},
		{"parent of fs.Put", tr.Parent(tr.Span("03")).SpanID, "02"},
		{"parent by FOLLOWS_FROM", tr.Span("04").ParentID(), "02"},
		{"parent of the root", tr.Span("01").ParentID(), ""},
		{"ancestors of fs.Put", ids(tr.Ancestors(tr.Span("03"))), "02,01"},
		{"orphans", ids(tr.Orphans()), "09"},
		{"service of root", tr.ServiceOf(tr.Span("01")), "ais-cli"},
		{"services", strings.Join(tr.Services(), ","), "ais-cli,aistarget"},
		{"spans of aistarget", ids(tr.SpansOf("aistarget")), "02,03,09,04"},
		{"find", ids(tr.Find("fs.Put")), "03"},
		{"int64 tag keeps digits", tr.Span("03").TagString("ais.size"), "1234567890123"},
		{"string tag", tr.Span("02").TagString("ais.bucket"), "b"},
		{"missing tag", tr.Span("02").TagString("ais.object"), ""},
		{"failed by status", tr.Span("02").Failed(), true},
		{"failed by error tag", tr.Span("04").Failed(), true},
		{"not failed", tr.Span("03").Failed(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if d := tr.Dump(); !strings.Contains(d, "ORPHAN (parent 77)") || !strings.Contains(d, "ais.bucket=b") {
		t.Errorf("Dump misses the orphan or a tag:\n%s", d)
	}
}

func TestSelfReferenceEndsAncestors(t *testing.T) {
	tr := &Trace{Spans: []Span{{SpanID: "s", References: []Reference{{RefType: "CHILD_OF", SpanID: "s"}}}}}
	if got := len(tr.Ancestors(&tr.Spans[0])); got > len(tr.Spans)+1 {
		t.Errorf("ancestors of a self-referencing span: %d", got)
	}
	if got := len(tr.Children(&tr.Spans[0])); got != 0 {
		t.Errorf("a self-referencing span is its own child (%d children)", got)
	}
}

// fakeJaeger answers the query API from the fixture: the trace "aa" (also
// asked for with leading zeros or in upper case), 404 for any other, the
// service list, and 500 on /api/traces?service=broken.
func fakeJaeger(t *testing.T) *httptest.Server {
	t.Helper()
	fixture := loadFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/services":
			w.Write([]byte(`{"data":["ais-cli","aistarget"]}`))
		case r.URL.Path == "/api/traces" && r.URL.Query().Get("service") == "broken":
			http.Error(w, "storage is on fire", http.StatusInternalServerError)
		case r.URL.Path == "/api/traces":
			if r.URL.Query().Get("start") == "" || r.URL.Query().Get("end") == "" || r.URL.Query().Get("limit") != "5" {
				http.Error(w, "want start, end and limit=5: "+r.URL.RawQuery, http.StatusBadRequest)
				return
			}
			w.Write(fixture)
		case strings.EqualFold(strings.TrimLeft(strings.TrimPrefix(r.URL.Path, "/api/traces/"), "0"), "aa"):
			w.Write(fixture)
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClient(t *testing.T) {
	srv := fakeJaeger(t)
	c := New(srv.URL+"/", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, id := range []string{"aa", "00AA"} {
		t.Run("trace "+id, func(t *testing.T) {
			tr, err := c.Trace(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tr.TraceID != "aa" || len(tr.Spans) != 5 || tr.Span("03").TagString("ais.size") != "1234567890123" {
				t.Errorf("trace %s: %d spans:\n%s", tr.TraceID, len(tr.Spans), tr.Dump())
			}
		})
	}
	t.Run("unknown trace", func(t *testing.T) {
		_, err := c.Trace(ctx, "bb")
		if !errors.Is(err, ErrTraceNotFound) || !strings.Contains(err.Error(), "bb") {
			t.Errorf("err = %v, want ErrTraceNotFound naming the ID", err)
		}
	})
	t.Run("services", func(t *testing.T) {
		svcs, err := c.Services(ctx)
		if err != nil || strings.Join(svcs, ",") != "ais-cli,aistarget" {
			t.Errorf("services = %v, %v", svcs, err)
		}
	})
	t.Run("traces of a service", func(t *testing.T) {
		trs, err := c.Traces(ctx, "aistarget", 5, time.Hour)
		if err != nil || len(trs) != 1 {
			t.Errorf("traces = %d, %v", len(trs), err)
		}
	})
	t.Run("server error quotes the body", func(t *testing.T) {
		_, err := c.Traces(ctx, "broken", 5, time.Hour)
		if err == nil || errors.Is(err, ErrTraceNotFound) || !strings.Contains(err.Error(), "storage is on fire") {
			t.Errorf("err = %v, want the 500 with its body", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		_, err := New(dead.URL, nil).Trace(ctx, "aa")
		if err == nil || errors.Is(err, ErrTraceNotFound) || !strings.Contains(err.Error(), "cannot reach Jaeger at "+dead.URL) {
			t.Errorf("err = %v, want cannot reach", err)
		}
	})
}
