package tests

import (
	"context"
	"strconv"
	"testing"
	"time"

	"miniais/tests/harness"
)

// redirectQuery returns the query a proxy's redirect adds ("pid=ID&utm=T"),
// for tests that send a write straight to a target. Targets accept it for
// redirectTTL (a minute); call it right before the request.
func redirectQuery(t testing.TB, ctx context.Context, cl *harness.Cluster) string {
	t.Helper()
	smap, err := cl.Smap(ctx)
	if err != nil {
		t.Fatalf("cluster map: %v", err)
	}
	return "pid=" + smap.Primary.ID + "&utm=" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
