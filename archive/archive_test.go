package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"miniais/cluster"
)

// build returns a TAR archive of the given members (name, content) written
// by archive/tar.
func build(t testing.TB, members ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(members); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: members[i], Size: int64(len(members[i+1])), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, members[i+1])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// appendMember returns arch with one more member, as the target builds it:
// the bytes up to End, then WriteMember.
func appendMember(t testing.TB, arch []byte, name, data string) []byte {
	t.Helper()
	end, err := End(bytes.NewReader(arch), int64(len(arch)))
	if err != nil {
		t.Fatalf("End: %v", err)
	}
	var out bytes.Buffer
	out.Write(arch[:end])
	if err := WriteMember(&out, name, int64(len(data)), time.Unix(1700000000, 0), strings.NewReader(data)); err != nil {
		t.Fatalf("WriteMember: %v", err)
	}
	return out.Bytes()
}

// readAll returns every member of arch as archive/tar reads it.
func readAll(t testing.TB, arch []byte) map[string]string {
	t.Helper()
	got := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(arch))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = string(b)
	}
}

func TestAppendAndFind(t *testing.T) {
	long := strings.Repeat("d/", 80) + "long-name.bin" // over 100 bytes: a PAX header
	tests := []struct {
		name    string
		start   []byte
		members []string // name, content pairs appended in order
	}{
		{"empty object", nil, []string{"a.txt", "hello\n"}},
		{"one member", build(t, "a.txt", "first"), []string{"b/c.txt", "second"}},
		{"block sizes", build(t, "zero", ""), []string{"one", "x", "full", strings.Repeat("y", 512), "over", strings.Repeat("z", 513)}},
		{"long names", build(t, "short", "s"), []string{long, "pax"}},
		{"same name twice", build(t, "dup", "old"), []string{"dup", "new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arch := tt.start
			want := readAll(t, arch)
			for i := 0; i < len(tt.members); i += 2 {
				arch = appendMember(t, arch, tt.members[i], tt.members[i+1])
				want[tt.members[i]] = tt.members[i+1]
			}
			if got := readAll(t, arch); len(got) != len(want) {
				t.Fatalf("archive/tar reads %v, want %v", got, want)
			}
			for name, data := range want {
				m, err := Find(bytes.NewReader(arch), int64(len(arch)), name)
				if err != nil {
					t.Fatalf("Find(%q): %v", name, err)
				}
				if got := string(arch[m.Offset : m.Offset+m.Size]); got != data {
					t.Errorf("member %q at %d: %q, want %q", name, m.Offset, got, data)
				}
			}
			list, err := List(bytes.NewReader(arch), int64(len(arch)))
			if err != nil || len(list) != len(want) {
				t.Fatalf("List: %v %v, want %d members", list, err, len(want))
			}
		})
	}
}

func TestFindErrors(t *testing.T) {
	arch := build(t, "a", "1")
	if _, err := Find(bytes.NewReader(arch), int64(len(arch)), "b"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("missing member: %v, want not found", err)
	}
	for _, bad := range [][]byte{[]byte("not an archive at all"), bytes.Repeat([]byte{'x'}, 2048), arch[:len(arch)-512]} {
		if _, err := End(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrNotTar) || !errors.Is(err, cluster.ErrBadRequest) {
			t.Errorf("End of %d garbage bytes: %v, want ErrNotTar", len(bad), err)
		}
	}
}

func TestWriteMemberSize(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int64
		body string
	}{{"short", 5, "abc"}, {"long", 2, "abcd"}} {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteMember(io.Discard, "m", tt.size, time.Now(), strings.NewReader(tt.body))
			if !errors.Is(err, cluster.ErrBadRequest) {
				t.Errorf("WriteMember of %d bytes declared %d: %v, want bad request", len(tt.body), tt.size, err)
			}
		})
	}
	for _, name := range []string{"", "/abs", "a/../b", "a//b", "dir/"} {
		if err := WriteMember(io.Discard, name, 0, time.Now(), strings.NewReader("")); !errors.Is(err, cluster.ErrBadName) {
			t.Errorf("member name %q: %v, want bad name", name, err)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for _, tt := range []struct {
		name, mime string
		want       error // nil: TAR
	}{
		{"a.tar", "", nil}, {"A.TAR", "", nil}, {"x", "application/x-tar", nil}, {"x", ".tar", nil},
		{"a.tgz", "", cluster.ErrNotImplemented}, {"a.tar.gz", "", cluster.ErrNotImplemented},
		{"a.zip", "", cluster.ErrNotImplemented}, {"a.tar.lz4", "", cluster.ErrNotImplemented},
		{"a.tar", "application/zip", cluster.ErrNotImplemented},
		{"a.txt", "", cluster.ErrBadRequest}, {"a.tar", "text/plain", cluster.ErrBadRequest},
	} {
		f, err := FormatOf(tt.name, tt.mime)
		if tt.want == nil && (err != nil || f != Tar) || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("FormatOf(%q, %q) = %q, %v; want %v", tt.name, tt.mime, f, err, tt.want)
		}
	}
}

// TestGNUTar appends to an archive made by GNU tar (padded to 10 KiB
// records) and has GNU tar read the result back.
func TestGNUTar(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar command")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "one.txt"), []byte("made by tar\n"), 0o644)
	arch := filepath.Join(dir, "a.tar")
	if out, err := exec.Command("tar", "-cf", arch, "-C", dir, "one.txt").CombinedOutput(); err != nil {
		t.Skipf("tar -cf: %v %s", err, out)
	}
	b, _ := os.ReadFile(arch)
	if len(b)%10240 != 0 {
		t.Logf("GNU tar wrote %d bytes (not a multiple of 10240)", len(b))
	}
	b = appendMember(t, b, "two/two.txt", "appended\n")
	os.WriteFile(arch, b, 0o644)
	out, err := exec.Command("tar", "-tf", arch).CombinedOutput()
	if err != nil || string(out) != "one.txt\ntwo/two.txt\n" {
		t.Fatalf("tar -tf after append: %v %q", err, out)
	}
}

// FuzzArchive: whatever an object holds, Walk, Find and List never panic,
// and a member they report lies inside the object.
func FuzzArchive(f *testing.F) {
	f.Add(build(f, "a", "1", "b/c", strings.Repeat("x", 600)))
	f.Add([]byte("not a tar"))
	f.Add(make([]byte, 1024))
	f.Fuzz(func(t *testing.T, b []byte) {
		ra := bytes.NewReader(b)
		end, err := Walk(ra, int64(len(b)), func(m Member) error {
			if m.Regular && (m.Offset < 0 || m.Size < 0 || m.Offset+m.Size > int64(len(b))) {
				t.Fatalf("member %q [%d,+%d) outside %d bytes", m.Name, m.Offset, m.Size, len(b))
			}
			return nil
		})
		if err == nil && (end < 0 || end > int64(len(b))) {
			t.Fatalf("end %d outside %d bytes", end, len(b))
		}
		List(ra, int64(len(b)))
		Find(ra, int64(len(b)), "a")
	})
}
