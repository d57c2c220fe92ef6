package main

import (
	"encoding/json"
	"fmt"
	"time"
)

// duration is a time.Duration that a JSON config file spells as a string
// ("30s", "1m30s") or as nanoseconds, and a flag as a string. It is a
// flag.Value.
type duration time.Duration

// UnmarshalJSON accepts "30s"-style strings and plain numbers (nanoseconds).
func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return d.Set(s)
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

// String returns the duration as time.Duration does ("1m30s").
func (d *duration) String() string { return time.Duration(*d).String() }

// Set parses a flag's value as time.ParseDuration does.
func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = duration(v)
	return nil
}
