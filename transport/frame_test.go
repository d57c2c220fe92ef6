package transport

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"miniais/cluster"
)

var update = flag.Bool("update", false, "rewrite the frames in testdata/frames")

// sampleFrames are the frames stored in testdata/frames (and the fuzz seeds).
func sampleFrames() []struct {
	name    string
	hdr     Header
	payload []byte
} {
	tp := map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	return []struct {
		name    string
		hdr     Header
		payload []byte
	}{
		{"ping", Header{Kind: KindPing, ID: 1, Sender: "p1", Trace: tp}, nil},
		{"ping-reply", Header{Kind: KindPing, ID: 1, Reply: true, Sender: "t1"}, nil},
		{"join", Header{Kind: KindJoin, ID: 2, Sender: "t1", Size: 5}, []byte("node!")},
		{"txn-prepare", Header{Kind: KindTxnPrepare, ID: 3, Sender: "p1", Bucket: "ais://b", Opaque: []byte(`{"action":"create-bck"}`), Trace: tp}, nil},
		{"error-reply", Header{Kind: KindTxnCommit, ID: 4, Reply: true, Sender: "t2", Error: "bucket b: already exists", ErrKind: "exists"}, nil},
		{"object-put", Header{Kind: KindObjectPut, ID: 5, Stream: true, Sender: "t1", Bucket: "ais://b", Object: "dir/obj", Size: 11,
			Checksum: cluster.Checksum{Type: cluster.ChecksumXXHash2, Value: "0123456789abcdef"}, Version: "3", Trace: tp}, []byte("hello world")},
	}
}

// encodeFrame returns a whole frame: prefix, header, payload.
func encodeFrame(tb testing.TB, h *Header, payload []byte) []byte {
	tb.Helper()
	h.Size = int64(len(payload))
	b, err := appendFrameHeader(nil, h)
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, payload...)
}

// decodeFrame decodes one frame from data the way a connection does.
func decodeFrame(data []byte, maxHeader int) (*Header, []byte, error) {
	br := bufio.NewReaderSize(bytes.NewReader(data), 16)
	h, _, err := readHeader(br, nil, maxHeader)
	if err != nil {
		return nil, nil, err
	}
	payload, err := io.ReadAll(&body{r: br, n: h.Size, pool: newBufPool()})
	return h, payload, err
}

// headerEqual compares headers, treating nil and empty slices and maps alike.
func headerEqual(a, b *Header) bool {
	x, y := *a, *b
	if !bytes.Equal(x.Opaque, y.Opaque) || !maps.Equal(x.Trace, y.Trace) {
		return false
	}
	x.Opaque, y.Opaque, x.Trace, y.Trace = nil, nil, nil, nil
	return reflect.DeepEqual(x, y)
}

// TestGoldenFrames checks the stored frames still decode to what they were
// made from (the wire format is stable); -update rewrites them.
func TestGoldenFrames(t *testing.T) {
	dir := filepath.Join("testdata", "frames")
	for _, f := range sampleFrames() {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(dir, f.name+".bin")
			if *update {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(path, encodeFrame(t, &f.hdr, f.payload), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h, payload, err := decodeFrame(data, DefaultMaxHeaderSize)
			if err != nil {
				t.Fatal(err)
			}
			f.hdr.Size = int64(len(f.payload))
			if !headerEqual(h, &f.hdr) || !bytes.Equal(payload, f.payload) {
				t.Fatalf("decoded %+v %q, want %+v %q", h, payload, f.hdr, f.payload)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	want := []string{"kind(0)", "ping", "join", "keepalive", "map-push", "bmd-push", "txn-prepare",
		"txn-commit", "txn-abort", "list-objects", "object-put", "bucket-summary", "rebalance-done", "config-push",
		"job-start", "job-status", "job-stop", "job-done", "job-object", "node-leave", "kind(20)"}
	for k, w := range want {
		t.Run(w, func(t *testing.T) {
			if got := Kind(k).String(); got != w {
				t.Fatalf("Kind(%d).String() = %q, want %q", k, got, w)
			}
			if Kind(k).Valid() != (k > 0 && k < len(want)-1) {
				t.Fatalf("Kind(%d).Valid() wrong", k)
			}
		})
	}
}

// splitReader returns data in chunks of random length (1..max).
type splitReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + r.rng.IntN(r.max)
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestRandomSplits decodes a stream of frames delivered at random byte
// boundaries, with payloads read both by Read and by WriteTo.
func TestRandomSplits(t *testing.T) {
	var stream []byte
	samples := sampleFrames()
	big := bytes.Repeat([]byte("0123456789"), 40000)
	for _, f := range samples {
		stream = append(stream, encodeFrame(t, &f.hdr, f.payload)...)
	}
	bigHdr := Header{Kind: KindObjectPut, ID: 99}
	stream = append(stream, encodeFrame(t, &bigHdr, big)...)
	for _, max := range []int{1, 3, 17, 4096} {
		for seed := uint64(0); seed < 5; seed++ {
			t.Run(fmt.Sprintf("max %d seed %d", max, seed), func(t *testing.T) {
				br := bufio.NewReaderSize(&splitReader{data: stream, rng: rand.New(rand.NewPCG(seed, uint64(max))), max: max}, 16)
				pool := newBufPool()
				var hbuf []byte
				check := func(want *Header, wantPayload []byte, viaWriteTo bool) {
					h, buf, err := readHeader(br, hbuf, DefaultMaxHeaderSize)
					hbuf = buf
					if err != nil {
						t.Fatal(err)
					}
					b := &body{r: br, n: h.Size, pool: pool}
					var got bytes.Buffer
					if viaWriteTo {
						_, err = b.WriteTo(&got)
					} else {
						_, err = io.Copy(struct{ io.Writer }{&got}, struct{ io.Reader }{b})
					}
					if err != nil {
						t.Fatal(err)
					}
					if !headerEqual(h, want) || !bytes.Equal(got.Bytes(), wantPayload) {
						t.Fatalf("frame %d: got %+v, want %+v", want.ID, h, want)
					}
				}
				for i, f := range samples {
					check(&f.hdr, f.payload, i%2 == 0)
				}
				check(&bigHdr, big, seed%2 == 0)
				if _, _, err := readHeader(br, hbuf, DefaultMaxHeaderSize); err != io.EOF {
					t.Fatalf("after the last frame: %v, want io.EOF", err)
				}
			})
		}
	}
}

// TestBadFrames checks that every kind of malformed input is ErrFrame (or a
// clean EOF at a frame boundary) and never a panic.
func TestBadFrames(t *testing.T) {
	good := encodeFrame(t, &Header{Kind: KindJoin, ID: 7, Sender: "x"}, []byte("abc"))
	hugeLen := append([]byte(nil), good...)
	binary.BigEndian.PutUint32(hugeLen[4:], 1<<31)
	zeroLen := append([]byte(nil), good[:8]...)
	binary.BigEndian.PutUint32(zeroLen[4:], 0)
	badVersion := append([]byte(nil), good...)
	badVersion[3] = 9
	undecodable := []byte{'A', 'I', 'S', 1, 0, 0, 0, 3, 0xc1, 0xc1, 0xc1}
	trailing := []byte{'A', 'I', 'S', 1, 0, 0, 0, 2, 0x80, 0x80}
	negSize := encodeFrame(t, &Header{Kind: KindJoin}, nil)
	negSize = append(negSize[:8], mustMarshal(t, &Header{Kind: KindJoin, Size: -1})...)
	binary.BigEndian.PutUint32(negSize[4:], uint32(len(negSize)-8))
	hugeMap := []byte{'A', 'I', 'S', 1, 0, 0, 0, 7, 0x81, 0xa1, 't', 0xdf, 0xff, 0xff, 0xff}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"bad-magic", []byte("GET / HTTP/1.1\r\n\r\n"), ErrFrame},
		{"bad-version", badVersion, ErrFrame},
		{"truncated-prefix", good[:5], ErrFrame},
		{"truncated-header", good[:12], ErrFrame},
		{"truncated-payload", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"header-too-large", hugeLen, ErrFrame},
		{"zero-header", zeroLen, ErrFrame},
		{"undecodable", undecodable, ErrFrame},
		{"trailing-bytes", trailing, ErrFrame},
		{"negative-size", negSize, ErrFrame},
		{"huge-trace-map", hugeMap, ErrFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeFrame(tt.data, 1024)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustMarshal(tb testing.TB, h *Header) []byte {
	tb.Helper()
	b, err := h.MarshalMsg(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzDecodeFrame feeds arbitrary bytes to the frame decoder: it must not
// panic or allocate from unchecked lengths, and whatever decodes must
// re-encode to a frame that decodes to the same thing.
func FuzzDecodeFrame(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "frames", "*.bin"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed frames in testdata/frames (run go test -run TestGoldenFrames -update): %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxHeader = 4096
		h, payload, err := decodeFrame(data, maxHeader)
		if err != nil {
			if !errors.Is(err, ErrFrame) && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if int64(len(payload)) != h.Size {
			t.Fatalf("payload %d bytes, header says %d", len(payload), h.Size)
		}
		again := encodeFrame(t, h, payload)
		h2, payload2, err := decodeFrame(again, 1<<20)
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if !headerEqual(h, h2) || !bytes.Equal(payload, payload2) {
			t.Fatalf("decode(encode(x)) != x:\n%+v\n%+v", h, h2)
		}
	})
}
