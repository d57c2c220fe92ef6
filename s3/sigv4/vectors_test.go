package sigv4

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// AWS's published examples of "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" (GET
// Object with a range) and of "Authenticating Requests: Using Query
// Parameters" (a presigned GET valid for 86400 s), credentials and time as
// published (examplebucket, 20130524T000000Z).
func TestAWSExamples(t *testing.T) {
	at, _ := time.Parse(timeFormat, exampleDate)
	v := &Verifier{Creds: Credentials{testKey: testSecret}, Now: fixedClock(at.Add(time.Minute))}

	t.Run("header", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/test.txt", nil)
		r.Host = "examplebucket.s3.amazonaws.com"
		r.Header.Set("Range", "bytes=0-9")
		r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		r.Header.Set("X-Amz-Date", exampleDate)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKey+"/20130524/us-east-1/s3/aws4_request,"+
			"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"+
			"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
		if _, err := v.Verify(r); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		r.Header.Set("Range", "bytes=0-10")
		if _, err := v.Verify(r); !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Fatalf("a changed Range: %v", err)
		}
	})
	t.Run("presigned", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"+
			"&X-Amz-Credential="+testKey+"%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"+
			"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"+
			"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", nil)
		r.Host = "examplebucket.s3.amazonaws.com"
		if _, err := v.Verify(r); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		late := &Verifier{Creds: v.Creds, Now: fixedClock(at.Add(86401 * time.Second))}
		if _, err := late.Verify(r); !errors.Is(err, ErrExpiredPresign) {
			t.Fatalf("the example URL a second after it expired: %v", err)
		}
	})
}
