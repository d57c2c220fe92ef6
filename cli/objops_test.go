package cli

import (
	"archive/tar"
	"bytes"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestObjectOpCommands checks the requests of "object cp", "object mv",
// "archive put", "get --archpath" and "ls --archive" (AIStore's, as
// shared/aistore-clients.md lists them) and what they did to the cluster.
func TestObjectOpCommands(t *testing.T) {
	dir := t.TempDir()
	member := filepath.Join(dir, "member.txt")
	writeFile(t, member, []byte("inside the archive"))
	out := filepath.Join(dir, "out.txt")
	objectIs := func(name, want string) func(t *testing.T, f *fixture) {
		return func(t *testing.T, f *fixture) {
			t.Helper()
			if b, ok := f.nc.Object("b", name); !ok || string(b) != want {
				t.Errorf("%s = %q (present %v), want %q", name, b, ok, want)
			}
		}
	}
	runCases(t, []cliCase{
		{name: "cp within the bucket", args: []string{"object", "cp", "ais://b/a.txt", "ais://b/copy.txt"},
			want:   []sent{{"PUT", "/v1/objects/b/a.txt", "object_to=ais%2F%40%23%2Fb%2Fcopy.txt&" + qAIS, ""}},
			stdout: []string{"Copied ais://b/a.txt => ais://b/copy.txt"}, check: objectIs("copy.txt", "x")},
		{name: "cp keeps the name under a directory", args: []string{"object", "cp", "ais://b/c.txt", "ais://b/sub/"},
			want:  []sent{{"PUT", "/v1/objects/b/c.txt", "object_to=ais%2F%40%23%2Fb%2Fsub%2Fc.txt&" + qAIS, ""}},
			check: objectIs("sub/c.txt", "xxx")},
		{name: "cp to a missing bucket", args: []string{"object", "cp", "ais://b/a.txt", "ais://nope/x"},
			want: []sent{{"PUT", "/v1/objects/b/a.txt", "object_to=ais%2F%40%23%2Fnope%2Fx&" + qAIS, ""}},
			code: ExitError, stderr: "does not exist"},
		{name: "mv", args: []string{"object", "mv", "ais://b/d.txt", "ais://b/moved.txt"},
			want:   []sent{{"POST", "/v1/objects/b/d.txt", qAIS, `{"action":"rename-obj","name":"moved.txt"}`}},
			stdout: []string{"Renamed ais://b/d.txt => ais://b/moved.txt"},
			check: func(t *testing.T, f *fixture) {
				objectIs("moved.txt", "xxxx")(t, f)
				if _, ok := f.nc.Object("b", "d.txt"); ok {
					t.Error("d.txt is still there")
				}
			}},
		{name: "mv to a bare name", args: []string{"object", "mv", "ais://b/d.txt", "e.txt"},
			want: []sent{{"POST", "/v1/objects/b/d.txt", qAIS, `{"action":"rename-obj","name":"e.txt"}`}}, check: objectIs("e.txt", "xxxx")},
		{name: "mv to another bucket is refused", args: []string{"object", "mv", "ais://b/d.txt", "ais://c/d.txt"},
			code: ExitUsage, stderr: "renamed within its bucket"},
		{name: "archive put", args: []string{"archive", "put", member, "ais://b/a.tar", "--archpath", "in/m.txt"},
			want: []sent{{"PUT", "/v1/objects/b/a.tar", "archmime=&archpath=in%2Fm.txt&" + qAIS, "inside the archive"}},
			check: func(t *testing.T, f *fixture) {
				b, _ := f.nc.Object("b", "a.tar")
				tr := tar.NewReader(bytes.NewReader(b))
				h, err := tr.Next()
				data, _ := io.ReadAll(tr)
				if err != nil || h.Name != "in/m.txt" || string(data) != "inside the archive" {
					t.Errorf("a.tar: %v %v %q", h, err, data)
				}
			}},
		{name: "archive put --append to a missing archive", args: []string{"archive", "put", member, "ais://b/none.tar", "--append"},
			want: []sent{{"PUT", "/v1/objects/b/none.tar", "archmime=&archpath=member.txt&" + qAIS, "inside the archive"}},
			code: ExitError, stderr: "not found"},
		{name: "archive put of another format", args: []string{"archive", "put", member, "ais://b/a.zip"},
			want: []sent{{"PUT", "/v1/objects/b/a.zip", "archmime=&archpath=member.txt&" + qAIS, "inside the archive"}},
			code: ExitError, stderr: "not implemented"},
		{name: "get --archpath of a non-archive", args: []string{"get", "ais://b/a.txt", out, "--archpath", "x"},
			want: []sent{{"GET", "/v1/objects/b/a.txt", "archpath=x&" + qAIS, ""}},
			code: ExitError, stderr: "archive format"},
		{name: "ls --archive", args: []string{"ls", "ais://b", "--archive", "--props", "name,size"},
			want:   []sent{{"GET", "/v1/buckets/b", qAIS, listBody("name,size", "", 0, "", "8")}},
			stdout: []string{"a.txt", "Total: 5 object(s)"}},
	})
}

// TestArchiveRoundTrip puts two files into an archive with the CLI, reads
// one back with "get --archpath" and lists the archive's files.
func TestArchiveRoundTrip(t *testing.T) {
	f := newRecordedCluster(t)
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	writeFile(t, one, []byte("first file"))
	writeFile(t, two, bytes.Repeat([]byte("second "), 10000))
	f.h.must("archive", "put", one, "ais://b/arch.tar")
	f.h.must("archive", "put", two, "ais://b/arch.tar", "--archpath", "dir/two", "--append")
	out := filepath.Join(dir, "got")
	r := f.h.must("get", "ais://b/arch.tar", out, "--archpath", "dir/two")
	if b, _ := os.ReadFile(out); !bytes.Equal(b, bytes.Repeat([]byte("second "), 10000)) || !strings.Contains(r.stdout, "GET ais://b/arch.tar/dir/two") {
		t.Fatalf("get --archpath: %d bytes, %q", len(b), r.stdout)
	}
	r = f.h.must("ls", "ais://b/arch.tar", "--archive")
	for _, want := range []string{"\narch.tar ", "\narch.tar/dir/two ", "\narch.tar/one ", "Total: 1 object(s), 2 file(s) in archives"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ls --archive lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestAppendCommands runs "put --append" and "object concat": HEAD bucket,
// one append PUT per file (the first with an empty handle, each with the
// piece's checksum), one flush with the last handle.
func TestAppendCommands(t *testing.T) {
	f := newRecordedCluster(t)
	dir := t.TempDir()
	var files []string
	var want []byte
	for i, data := range []string{"one ", "", "three ", strings.Repeat("four", 50000)} {
		p := filepath.Join(dir, string(rune('a'+i)))
		writeFile(t, p, []byte(data))
		files = append(files, p)
		want = append(want, data...)
	}
	r := f.h.must(append(append([]string{"object", "concat"}, files[:3]...), "ais://b/cat")...)
	if !strings.Contains(r.stdout, "Concatenated 3 file(s)") {
		t.Errorf("concat: %q", r.stdout)
	}
	f.h.must("put", "--append", files[3], "ais://b/cat")
	if b, ok := f.nc.Object("b", "cat"); !ok || !bytes.Equal(b, want) {
		t.Fatalf("cat = %d bytes, want %d", len(b), len(want))
	}
	got := f.rec.requests()
	// concat: HEAD, 3 appends, flush; put --append: HEAD, 1 append, flush.
	var shape []string
	handle := ""
	for _, s := range got {
		q, _ := url.ParseQuery(s.Query)
		step := s.Method + " " + s.Path
		if at := q.Get("append_type"); at != "" {
			step += " " + at
			if h := q.Get("append_handle"); h == "" {
				step += " (new)"
			} else if h == handle {
				step += " (same handle!)"
			}
			handle = q.Get("append_handle")
		}
		shape = append(shape, step)
	}
	want2 := []string{
		"HEAD /v1/buckets/b", "PUT /v1/objects/b/cat append (new)", "PUT /v1/objects/b/cat append", "PUT /v1/objects/b/cat append",
		"PUT /v1/objects/b/cat flush",
		"HEAD /v1/buckets/b", "PUT /v1/objects/b/cat append (new)", "PUT /v1/objects/b/cat flush",
	}
	if strings.Join(shape, "\n") != strings.Join(want2, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(shape, "\n"), strings.Join(want2, "\n"))
	}
	if r := f.h.run("put", "--append", "-", "ais://b/cat"); r.code != ExitUsage {
		t.Errorf("put --append from stdin: %+v", r)
	}
}

// TestMpuCommands runs "object mpu" create, put (both argument forms),
// ls, complete and abort.
func TestMpuCommands(t *testing.T) {
	f := newRecordedCluster(t)
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "p1"), filepath.Join(dir, "p2")
	writeFile(t, p1, []byte("part one, "))
	writeFile(t, p2, []byte("part two"))
	r := f.h.must("object", "mpu", "create", "ais://b/big")
	id := strings.TrimSpace(strings.TrimPrefix(r.stdout, "Upload ID:"))
	if len(id) < 8 {
		t.Fatalf("create: %q", r.stdout)
	}
	f.h.must("object", "mpu", "put", "ais://b/big", id, "2", p2)
	f.h.must("object", "mpu", "put", "ais://b/big", p1, "--upload-id", id, "--part-number", "1")
	if r := f.h.must("object", "mpu", "ls", "ais://b"); !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "Total: 1 upload(s)") {
		t.Errorf("mpu ls: %q", r.stdout)
	}
	f.h.must("object", "mpu", "complete", "ais://b/big", id, "1-2")
	if b, _ := f.nc.Object("b", "big"); string(b) != "part one, part two" {
		t.Fatalf("big = %q", b)
	}
	got := f.rec.requests()
	if len(got) < 2 || got[0] != (sent{"HEAD", "/v1/buckets/b", qAIS, ""}) ||
		got[1] != (sent{"POST", "/v1/objects/b/big", qAIS, `{"action":"mpt-upload"}`}) {
		t.Errorf("create sent %v", got)
	}
	last := got[len(got)-1]
	if last.Method != "POST" || last.Query != qAIS+"&uploadId="+id ||
		last.Body != `{"action":"mpt-complete","value":[{"etag":"","part-number":1},{"etag":"","part-number":2}]}` {
		t.Errorf("complete sent %v", last)
	}
	r = f.h.must("object", "mpu", "create", "ais://b/gone")
	id = strings.TrimSpace(strings.TrimPrefix(r.stdout, "Upload ID:"))
	f.h.must("object", "mpu", "abort", "ais://b/gone", id)
	if r := f.h.run("object", "mpu", "complete", "ais://b/gone", id, "1"); r.code != ExitError || !strings.Contains(r.stderr, "no multipart upload") {
		t.Errorf("complete after abort: %+v", r)
	}
	for _, bad := range [][]string{
		{"object", "mpu", "put", "ais://b/big", id, "0", p1},
		{"object", "mpu", "complete", "ais://b/big", id, "3-1"},
		{"object", "mpu", "abort", "ais://b/big"},
	} {
		if r := f.h.run(bad...); r.code != ExitUsage {
			t.Errorf("ais %s: exit %d, want usage: %s", strings.Join(bad, " "), r.code, r.stderr)
		}
	}
}

// TestObjectOpHelp: every new spelling is a command with help.
func TestObjectOpHelp(t *testing.T) {
	h := &harness{tb: t}
	for _, args := range [][]string{
		{"object", "cp"}, {"object", "mv"}, {"object", "concat"}, {"object", "mpu"}, {"object", "mpu", "create"},
		{"object", "mpu", "put"}, {"object", "mpu", "complete"}, {"object", "mpu", "abort"}, {"object", "mpu", "ls"},
		{"archive"}, {"archive", "put"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.must(append(args, "--help")...)
			if !strings.Contains(r.stdout, "USAGE") {
				t.Errorf("no usage:\n%s", r.stdout)
			}
		})
	}
	for _, args := range [][]string{{"put", "--help"}, {"get", "--help"}, {"ls", "--help"}} {
		r := h.must(args...)
		flag := map[string]string{"put": "--append", "get": "--archpath", "ls": "--archive"}[args[0]]
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("ais %s lacks %s:\n%s", args[0], flag, r.stdout)
		}
	}
}
