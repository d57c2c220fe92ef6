package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"testing"
)

// discard is io.Discard without ReadFrom, so that copies into it go through
// the caller's buffer (measured the same way as the transport).
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var sizes = []int{64 << 10, 1 << 20, 16 << 20}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

// BenchmarkCall measures small request/response round trips over loopback.
func BenchmarkCall(b *testing.B) {
	srv := startServer(b, Config{NodeID: "t1"}, echoAll(), "")
	c := newClient(b, Config{NodeID: "p1"})
	ctx := context.Background()
	for _, size := range []int{0, 1 << 10} {
		payload := make([]byte, size)
		hdr := &Header{Kind: KindPing, Bucket: "ais://bench", Object: "obj"}
		b.Run(fmt.Sprintf("serial/%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, _, err := c.Call(ctx, srv.addr, hdr, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("parallel/%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := c.Call(ctx, srv.addr, hdr, payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSend measures object streaming: Send of size bytes to a handler
// that copies the body to a discarding writer.
func BenchmarkSend(b *testing.B) {
	sink := func(_ context.Context, msg *Message, _ *Header) ([]byte, error) {
		_, err := io.Copy(discard{}, msg.Body)
		return nil, err
	}
	srv := startServer(b, Config{NodeID: "t1"}, map[Kind]Handler{KindObjectPut: sink}, "")
	c := newClient(b, Config{NodeID: "p1"})
	ctx := context.Background()
	for _, size := range sizes {
		data := make([]byte, size)
		b.Run(sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			r := bytes.NewReader(data)
			hdr := &Header{Kind: KindObjectPut, Bucket: "ais://bench", Object: "obj"}
			for b.Loop() {
				r.Reset(data)
				if _, _, err := c.Send(ctx, srv.addr, hdr, r, int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoopbackTCP is the reference for BenchmarkSend: the same
// payloads over a raw loopback TCP connection, copied the same way (one
// 256 KiB buffer on each side) and acknowledged with one byte per message.
func BenchmarkLoopbackTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				buf := make([]byte, copyBufSize)
				var size [8]byte
				for {
					if _, err := io.ReadFull(nc, size[:]); err != nil {
						return
					}
					n := int64(size[0])<<24 | int64(size[1])<<16 | int64(size[2])<<8 | int64(size[3])
					if _, err := io.CopyBuffer(discard{}, io.LimitReader(nc, n), buf); err != nil {
						return
					}
					if _, err := nc.Write(size[:1]); err != nil {
						return
					}
				}
			}()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	buf := make([]byte, copyBufSize)
	for _, size := range sizes {
		data := make([]byte, size)
		b.Run(sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			r := bytes.NewReader(data)
			prefix := []byte{byte(size >> 24), byte(size >> 16), byte(size >> 8), byte(size), 0, 0, 0, 0}
			ack := make([]byte, 1)
			for b.Loop() {
				r.Reset(data)
				if _, err := nc.Write(prefix); err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(struct{ io.Writer }{nc}, io.LimitReader(r, int64(size)), buf); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(nc, ack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
