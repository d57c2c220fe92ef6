package sigv4

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkVerify measures Verify and reading the verified body, per
// payload mode and size, on requests signed once by the SDK's signer.
func BenchmarkVerify(b *testing.B) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, size := range []int{0, 4 << 10, 1 << 20} {
		data := bytes.Repeat([]byte("x"), size)
		modes := []string{unsignedPayload, "sha256", streamingSigned}
		for _, mode := range modes {
			if size == 0 && mode == streamingSigned {
				continue
			}
			b.Run(fmt.Sprintf("%s/%d", mode, size), func(b *testing.B) {
				v := &Verifier{Creds: Credentials{testKey: testSecret}, Now: fixedClock(now)}
				var body []byte
				hdr := http.Header{}
				switch mode {
				case streamingSigned:
					req := signedChunkedRequest(b, "http://s3.example/bucket/key", data, 64<<10, mode, "", "", now)
					body, _ = io.ReadAll(req.Body)
					hdr = req.Header
				default:
					hash := mode
					if mode == "sha256" {
						hash = sha256Hex(data)
					}
					req := httptest.NewRequest("PUT", "http://s3.example/bucket/key", nil)
					req.Header.Set("X-Amz-Content-Sha256", hash)
					req.ContentLength = int64(size)
					if err := sdkSign(req, hash, now); err != nil {
						b.Fatal(err)
					}
					body, hdr = data, req.Header
				}
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					r := httptest.NewRequest("PUT", "http://s3.example/bucket/key", bytes.NewReader(body))
					r.Header = hdr.Clone()
					r.ContentLength = int64(len(body))
					r.Header.Set("Content-Length", strconv.Itoa(len(body)))
					res, err := v.Verify(r)
					if err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := res.Body.Read(buf); err == io.EOF {
							break
						} else if err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkSigningKey compares the derived-key cache with deriving the
// key (four HMACs) on every request.
func BenchmarkSigningKey(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		v := &Verifier{}
		b.ReportAllocs()
		for b.Loop() {
			v.signingKey(testKey, testSecret, "20261201", "us-east-1")
		}
	})
	b.Run("derived", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			deriveKey(testSecret, "20261201", "us-east-1")
		}
	})
}
