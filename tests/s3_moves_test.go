package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"miniais/api"
	"miniais/cluster"
	"miniais/tests/harness"
)

// TestS3ETagSurvivesMoves checks that an object keeps its S3 ETag (the MD5
// of its content, a custom pair) when a rebalance moves it to a new target
// and when the native API copies it to another target: the transport carries
// an object's custom pairs.
func TestS3ETagSurvivesMoves(t *testing.T) {
	ctx := testContext(t)
	cl := s3Cluster(t, false, harness.Options{Targets: 2})
	c := newS3Client(t, cl, s3ClientOpts{whenRequired: true})
	s3Mkbucket(t, c, "moves")
	const n = 40
	want := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("obj-%03d", i)
		want[key] = s3Random(t, 1+i*500)
		if out := s3Put(t, c, "moves", key, want[key]); aws.ToString(out.ETag) != md5Quoted(want[key]) {
			t.Fatalf("PUT %s: ETag %s, want %s", key, aws.ToString(out.ETag), md5Quoted(want[key]))
		}
	}

	joined := startExtraTarget(t, cl)
	smap := waitTargets(t, ctx, cl, 3)
	bck := cluster.NewBucket("moves")
	moved := 0
	deadline := time.Now().Add(60 * time.Second)
	for key := range want {
		owner, err := smap.Owner(bck.Uname(key))
		if err != nil {
			t.Fatal(err)
		}
		if owner.ID != joined {
			continue
		}
		moved++
		for headLocal(t, ctx, owner.URL(), bck, key) != 200 {
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached its new owner %s", key, joined)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if moved == 0 {
		t.Fatal("the new target owns none of the objects: the test proves nothing")
	}

	// A native copy to another bucket, whose owners differ object by object.
	native := api.NewClient(cl.ProxyURL())
	dst := createBucket(t, ctx, native, "moves-copy")
	for key := range want {
		if _, err := native.CopyObject(ctx, bck, key, dst, key); err != nil {
			t.Fatalf("native copy of %s: %v", key, err)
		}
	}
	for _, b := range []string{"moves", "moves-copy"} {
		for key, data := range want {
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HEAD %s/%s: %v", b, key, err)
			}
			if got := aws.ToString(head.ETag); got != md5Quoted(data) {
				t.Errorf("%s/%s: ETag %s after the move or copy, want %s (the MD5)", b, key, got, md5Quoted(data))
			}
		}
	}
	t.Logf("%d of %d objects moved to %s; all kept their ETags, as did their native copies", moved, n, joined)
}
