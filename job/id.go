package job

import (
	"crypto/rand"
	"strconv"
	"strings"
)

// Limits of a job ID (AIStore's cos.IsValidUUID).
const (
	MinIDLen = 9
	MaxIDLen = 32
)

// idLen is the length of the IDs NewID makes: 62^11 > 2^65.
const idLen = 11

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a fresh random job ID of letters and digits, starting with
// a letter (never "g" followed by digits only, which is a rebalance's).
func NewID() string {
	var b [idLen]byte
	rand.Read(b[:])
	for i := range b {
		n := len(idAlphabet)
		if i == 0 {
			n = 52 // a letter
		}
		b[i] = idAlphabet[int(b[i])%n]
	}
	return string(b[:])
}

// ValidID reports whether id has the form AIStore's clients accept for a
// job: 9 to 32 characters of [A-Za-z0-9_-], with neither '-' nor '_' at
// either end. A rebalance ID ("g12") is valid too.
func ValidID(id string) bool {
	if _, ok := ParseRebalanceID(id); ok {
		return true
	}
	if len(id) < MinIDLen || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_':
			if i == 0 || i == len(id)-1 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// RebalanceID returns the ID of the rebalance started by cluster map
// version v: "g<v>".
func RebalanceID(v int64) string { return "g" + strconv.FormatInt(v, 10) }

// ParseRebalanceID returns the map version of a rebalance ID and true, or
// false when id is not one ("g" followed by a positive decimal number
// without leading zeros).
func ParseRebalanceID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, "g")
	if !ok || rest == "" || rest[0] == '0' || len(rest) > 18 {
		return 0, false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}
