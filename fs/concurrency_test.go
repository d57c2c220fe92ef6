package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"miniais/cluster"
)

// TestConcurrentPutGet runs many goroutines that put, overwrite, read, delete
// and list the same and different names; every read must return a complete
// version whose content matches its checksum, and the versions of a hot name
// must be exactly 1..number of puts. Run it with -race.
func TestConcurrentPutGet(t *testing.T) {
	metaModes(t, func(t *testing.T, mods ...func(*Config)) {
		s := newStore(t, 3, mods...)
		bck := newBucket(t, s, "race")
		ctx := context.Background()
		const (
			workers = 8
			ops     = 150
			hot     = 3
		)
		var (
			mu       sync.Mutex
			versions = map[string][]int{}
		)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 1))
				own := "own/" + strconv.Itoa(w)
				for i := range ops {
					var name string
					switch r.IntN(3) {
					case 0:
						name = "hot-" + strconv.Itoa(r.IntN(hot))
					case 1:
						name = own
					default:
						name = "del/" + strconv.Itoa(r.IntN(2)) + "/" + strconv.Itoa(r.IntN(2))
					}
					switch op := r.IntN(10); {
					case op < 4:
						data := randBytes(r.IntN(40<<10), uint64(w*ops+i))
						a, err := s.Put(ctx, bck, name, bytes.NewReader(data), PutOptions{Size: int64(len(data))})
						if err != nil {
							t.Errorf("Put %s: %v", name, err)
							return
						}
						if a.Checksum.Value != xxh(data) {
							t.Errorf("Put %s: checksum %s, want %s", name, a.Checksum.Value, xxh(data))
						}
						if name[:3] == "hot" {
							v, _ := strconv.Atoi(a.Version)
							mu.Lock()
							versions[name] = append(versions[name], v)
							mu.Unlock()
						}
					case op < 8:
						checkRead(t, s, bck, name)
					case op < 9:
						if name[:3] != "del" {
							continue // deletes would restart the version count
						}
						if err := s.Delete(ctx, bck, name); err != nil && !errors.Is(err, cluster.ErrNotFound) {
							t.Errorf("Delete %s: %v", name, err)
						}
					default:
						if _, _, err := s.List(ctx, bck, ListOptions{PageSize: 5}); err != nil {
							t.Errorf("List: %v", err)
						}
					}
				}
			})
		}
		wg.Wait()
		for name, vs := range versions {
			slices.Sort(vs)
			for i, v := range vs {
				if v != i+1 {
					t.Fatalf("%s: versions %v are not 1..%d", name, vs, len(vs))
				}
			}
			if a, err := s.Head(ctx, bck, name); err != nil || a.Version != strconv.Itoa(len(vs)) {
				t.Fatalf("%s: final version %q (%v), want %d", name, a.Version, err, len(vs))
			}
		}
		assertNoWorkFiles(t, s)
	})
}

// checkRead opens name with validation and checks that what it reads is the
// complete version its attributes describe.
func checkRead(tb testing.TB, s *Store, bck cluster.Bucket, name string) {
	obj, err := s.Open(context.Background(), bck, name, GetOptions{Validate: true})
	if errors.Is(err, cluster.ErrNotFound) {
		return
	}
	if err != nil {
		tb.Errorf("Open %s: %v", name, err)
		return
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		tb.Errorf("read %s: %v", name, err)
		return
	}
	if int64(len(got)) != obj.Attrs.Size || xxh(got) != obj.Attrs.Checksum.Value {
		tb.Errorf("%s v%s: read %d bytes with checksum %s, attrs say %d bytes, %s",
			name, obj.Attrs.Version, len(got), xxh(got), obj.Attrs.Size, obj.Attrs.Checksum.Value)
	}
}
