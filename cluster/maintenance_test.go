package cluster

import (
	"errors"
	"strconv"
	"testing"
)

// TestOwnerSkipsMaintenance: a target in maintenance (or being
// decommissioned) owns nothing; exactly the names it owned move, each to
// the target that owns it in the map without it; clearing the flag brings
// placement back as it was.
func TestOwnerSkipsMaintenance(t *testing.T) {
	for _, flag := range []uint64{FlagMaintenance, FlagMaintenance | FlagMaintenancePostRebalance, FlagDecommission} {
		t.Run(strconv.FormatUint(flag, 10), func(t *testing.T) {
			m4 := testMap(4)
			const leaving = "td"
			maint := m4.Clone()
			maint.Targets[leaving].Flags = flag
			without := m4.Clone()
			delete(without.Targets, leaving)
			back := maint.Clone()
			back.Targets[leaving].Flags = 0
			if got := len(maint.PlacementTargets()); got != 3 || len(maint.TargetList()) != 4 {
				t.Fatalf("%d targets in placement of %d, want 3 of 4", got, len(maint.TargetList()))
			}
			moved := 0
			for i := range 20_000 {
				u := NewBucket("b").Uname("obj-" + strconv.Itoa(i))
				before, _ := m4.Owner(u)
				during, err := maint.Owner(u)
				if err != nil {
					t.Fatal(err)
				}
				ref, _ := without.Owner(u)
				after, _ := back.Owner(u)
				switch {
				case during.ID == leaving:
					t.Fatalf("%s placed on %s, which is in maintenance", u, leaving)
				case during.ID != ref.ID:
					t.Fatalf("%s: owner %s in maintenance, %s without the target", u, during.ID, ref.ID)
				case before.ID != leaving && during.ID != before.ID:
					t.Fatalf("%s moved from %s to %s though its owner stayed", u, before.ID, during.ID)
				case after.ID != before.ID:
					t.Fatalf("%s: owner %s after maintenance, %s before", u, after.ID, before.ID)
				}
				if before.ID == leaving {
					moved++
				}
			}
			if moved == 0 {
				t.Fatal("the target in maintenance owned nothing before: the test proves nothing")
			}
		})
	}
}

// TestOwnerAllInMaintenance: with every target out of placement there is
// no owner.
func TestOwnerAllInMaintenance(t *testing.T) {
	m := testMap(2)
	for _, n := range m.Targets {
		n.Flags = FlagMaintenance
	}
	m.idx.Store(nil)
	if n, err := m.Owner("b/o"); n != nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Owner = %v, %v; want nil and ErrUnavailable", n, err)
	}
	if !m.Targets["ta"].InMaintenance() {
		t.Fatal("InMaintenance is false for a flagged target")
	}
}
