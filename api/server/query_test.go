package server

import (
	"net/url"
	"strings"
	"testing"
)

// queryCases are raw queries with the keys asked of them.
var queryCases = []struct{ raw, key string }{
	{"", "provider"},
	{"provider=ais", "provider"},
	{"provider=ais&provider=gcp", "provider"},
	{"a=1&provider=", "provider"},
	{"provider", "provider"},
	{"prov%69der=a%69s", "provider"},
	{"provider=%zz&provider=ais", "provider"},
	{"provider=ais;x=1&provider=gcp", "provider"},
	{"x=1&&provider=a+b", "provider"},
	{"pro+vider=1", "pro vider"},
	{"=1&provider=2", ""},
	{"%=1&provider=2", "provider"},
	{strings.Repeat("a=1&", maxQueryParams) + "provider=ais", "provider"},
	{strings.Repeat("a=1&", maxQueryParams-1) + "provider=ais", "provider"},
}

// TestQueryGet: QueryGet and QueryHas answer what url.ParseQuery's map does.
func TestQueryGet(t *testing.T) {
	for _, c := range queryCases {
		name := c.raw
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) { checkQuery(t, c.raw, c.key) })
	}
}

func checkQuery(t *testing.T, raw, key string) {
	t.Helper()
	q, _ := url.ParseQuery(raw)
	if got, want := QueryGet(raw, key), q.Get(key); got != want {
		t.Errorf("QueryGet(%q, %q) = %q, url.Values says %q", raw, key, got, want)
	}
	if got, want := QueryHas(raw, key), q.Has(key); got != want {
		t.Errorf("QueryHas(%q, %q) = %v, url.Values says %v", raw, key, got, want)
	}
}

// FuzzQueryGet: for any query and key, QueryGet and QueryHas agree with
// url.ParseQuery.
func FuzzQueryGet(f *testing.F) {
	for _, c := range queryCases[:len(queryCases)-2] {
		f.Add(c.raw, c.key)
	}
	f.Add("pid=p1&utm=abc&traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "utm")
	f.Fuzz(func(t *testing.T, raw, key string) { checkQuery(t, raw, key) })
}

// TestQueryGetAllocs: a key that needs no unescaping costs no allocation.
func TestQueryGetAllocs(t *testing.T) {
	raw := "provider=ais&pid=p1&utm=m3x5k2&smap=7"
	if n := testing.AllocsPerRun(100, func() {
		_ = QueryGet(raw, "utm")
		_ = QueryHas(raw, "archpath")
	}); n != 0 {
		t.Errorf("%v allocations per lookup, want 0", n)
	}
}

// BenchmarkQuery compares QueryGet with r.URL.Query().Get on aisloader's
// redirected GET.
func BenchmarkQuery(b *testing.B) {
	raw := "provider=ais&pid=p1&utm=m3x5k2ab"
	b.Run("QueryGet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = QueryGet(raw, "provider")
		}
	})
	b.Run("url.Values", func(b *testing.B) {
		b.ReportAllocs()
		u := &url.URL{RawQuery: raw}
		for b.Loop() {
			_ = u.Query().Get("provider")
		}
	})
}
