package fs

import (
	"os"
	"testing"
)

func TestOrderedData(t *testing.T) {
	// What the rest of the suite runs on is logged (this machine's ext4
	// has no journal: not ordered); /proc is never ordered.
	if got := orderedData("/proc"); got {
		t.Errorf("orderedData(/proc) = true")
	}
	t.Logf("orderedData(%s) = %v", os.TempDir(), orderedData(os.TempDir()))
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/x\134y`: `/x\y`, `/t\04`: `/t\04`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
