package main

import (
	"encoding/json"
	"fmt"
	"time"
)

// duration is a time.Duration that a JSON config file spells as a string
// ("30s", "1m30s") or as nanoseconds.
type duration time.Duration

// UnmarshalJSON accepts "30s"-style strings and plain numbers (nanoseconds).
func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration: want a string like \"30s\" or nanoseconds: %w", err)
	}
	*d = duration(n)
	return nil
}

// MarshalJSON writes the duration as a string ("30s").
func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
