package fs

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mount is one line of the mount table (/proc/self/mounts).
type Mount struct {
	// Device is the mounted source, e.g. /dev/vda1.
	Device string
	// Dir is the mount point, unescaped.
	Dir string
	// FSType is the filesystem type, e.g. ext4.
	FSType string
}

// Mounts is the mount table, empty where /proc is not.
type Mounts []Mount

// ReadMounts reads /proc/self/mounts.
func ReadMounts() Mounts {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var ms Mounts
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fl := strings.Fields(sc.Text()); len(fl) >= 3 {
			ms = append(ms, Mount{Device: fl[0], Dir: unescapeMount(fl[1]), FSType: fl[2]})
		}
	}
	return ms
}

// Of returns the mount that holds path (symbolic links resolved): the one
// with the longest mount point that is path or a parent of it, the last of
// equal length (mounted over the others).
func (ms Mounts) Of(path string) (Mount, bool) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	var best Mount
	found := false
	for _, m := range ms {
		if (path == m.Dir || strings.HasPrefix(path, strings.TrimSuffix(m.Dir, "/")+"/")) && len(m.Dir) >= len(best.Dir) {
			best, found = m, true
		}
	}
	return best, found
}

// unescapeMount undoes the octal escapes (\040 for a space) of the mount
// table.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
