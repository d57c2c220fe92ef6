package loader

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true}, {"4KiB", 4 << 10, true}, {"64k", 64 << 10, true}, {"1MiB", 1 << 20, true},
		{"16 MB", 16 << 20, true}, {"1.5G", 3 << 29, true}, {"", 0, false}, {"4XB", 0, false}, {"-1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if tt.ok {
				if back, _ := ParseSize(FormatSize(got)); back != got {
					t.Errorf("FormatSize(%d) = %q does not parse back", got, FormatSize(got))
				}
			}
		})
	}
}
