package fs

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
)

// reportCPU starts measuring the CPU time (user and system) of the process;
// the returned func reports it per operation as cpu-ns/op, which on a
// shared, noisy machine says more than the wall time.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestWriteTo checks both paths of Object.WriteTo (small: one pread and one
// Write; large: os.File.WriteTo) and that Read and Seek after it see the
// offset at the end, as after any WriterTo.
func TestWriteTo(t *testing.T) {
	s := newStore(t, 1)
	bck := newBucket(t, s, "b")
	for _, size := range []int{0, 1, 4 << 10, SmallObjectSize, SmallObjectSize + 1, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			data := randBytes(size, uint64(size))
			put(t, s, bck, "o", data)
			obj, err := s.Open(context.Background(), bck, "o", GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Close()
			var out bytes.Buffer
			n, err := obj.WriteTo(&out)
			if err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("WriteTo = %d, %v; equal %v", n, err, bytes.Equal(out.Bytes(), data))
			}
			if m, err := obj.Read(make([]byte, 1)); m != 0 || err != io.EOF {
				t.Errorf("Read after WriteTo = %d, %v; want 0, EOF", m, err)
			}
			if off, err := obj.Seek(0, io.SeekCurrent); off != int64(size) || err != nil {
				t.Errorf("offset after WriteTo = %d, %v; want %d", off, err, size)
			}
			// Seek back and read it again through WriteTo's other path.
			if _, err := obj.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if n, err := obj.WriteTo(&out); err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("WriteTo after Seek = %d, %v", n, err)
			}
		})
	}
}

// BenchmarkWriteTo sends one object per size over a loopback TCP
// connection, with the small-object path (one pread, one write) and with
// sendfile (os.File.WriteTo): where the two cross is SmallObjectSize.
func BenchmarkWriteTo(b *testing.B) {
	s := newStore(b, 1)
	bck := newBucket(b, s, "bench")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for _, size := range []int{4 << 10, 16 << 10, 64 << 10, 128 << 10} {
		name := "obj-" + strconv.Itoa(size)
		put(b, s, bck, name, randBytes(size, 3))
		for _, path := range []string{"small", "sendfile"} {
			b.Run(strconv.Itoa(size>>10)+"KiB/"+path, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				ctx := context.Background()
				defer reportCPU(b)()
				for b.Loop() {
					obj, err := s.Open(ctx, bck, name, GetOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if path == "sendfile" {
						_, err = obj.File().WriteTo(conn)
					} else if size <= SmallObjectSize {
						_, err = obj.WriteTo(conn)
					} else {
						// Beyond the threshold: the small path by hand.
						buf := make([]byte, size)
						if _, err = obj.ReadAt(buf, 0); err == nil {
							_, err = conn.Write(buf)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
					obj.Close()
				}
			})
		}
	}
}
