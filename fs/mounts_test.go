package fs

import "testing"

func TestMountsOf(t *testing.T) {
	ms := Mounts{
		{Device: "/dev/vda1", Dir: "/", FSType: "ext4"},
		{Device: "tmpfs", Dir: "/tmp", FSType: "tmpfs"},
		{Device: "/dev/vdb", Dir: "/tmp/data", FSType: "xfs"},
		{Device: "/dev/vdc", Dir: "/tmp/data", FSType: "ext4"}, // mounted over the one before
	}
	for path, want := range map[string]string{
		"/nonexistent/x":   "/dev/vda1",
		"/tmp":             "tmpfs",
		"/tmpx/y":          "/dev/vda1",
		"/tmp/data":        "/dev/vdc",
		"/tmp/data/mp1/ab": "/dev/vdc",
		"/tmp/database":    "tmpfs",
	} {
		m, ok := ms.Of(path)
		if !ok || m.Device != want {
			t.Errorf("Of(%q) = %+v, %v; want device %s", path, m, ok, want)
		}
	}
	if _, ok := (Mounts{}).Of("/x"); ok {
		t.Error("an empty table holds /x")
	}
}
