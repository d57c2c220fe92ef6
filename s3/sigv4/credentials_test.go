package sigv4

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCredentials(t *testing.T) {
	tests := []struct {
		name, file string
		want       Credentials
		err        string // part of the error, "" for none
	}{
		{"aws cli file", "# the aws CLI's\n[default]\naws_access_key_id = AK1\naws_secret_access_key = s1/+=\nregion = us-east-1\n\n" +
			"[ci]\n; second\naws_access_key_id=AK2\naws_secret_access_key=s2\n", Credentials{"AK1": "s1/+=", "AK2": "s2"}, ""},
		{"config-style header", "[profile p]\naws_access_key_id = AK\naws_secret_access_key = S\n", Credentials{"AK": "S"}, ""},
		{"profile without keys", "[default]\nregion = eu-west-1\n[k]\naws_access_key_id = AK\naws_secret_access_key = S\n", Credentials{"AK": "S"}, ""},
		{"same key twice", "[a]\naws_access_key_id = AK\naws_secret_access_key = S\n[b]\naws_access_key_id = AK\naws_secret_access_key = S\n", Credentials{"AK": "S"}, ""},
		{"empty", "", nil, "no aws_access_key_id"},
		{"only other settings", "[default]\nregion = us-east-1\n", nil, "no aws_access_key_id"},
		{"half a pair", "[default]\naws_access_key_id = AK\n", nil, ":1: profile [default] has aws_access_key_id but no aws_secret_access_key"},
		{"secret only", "[x]\naws_secret_access_key = S\n", nil, "no aws_access_key_id"},
		{"two secrets", "[a]\naws_access_key_id = AK\naws_secret_access_key = S\n[b]\naws_access_key_id = AK\naws_secret_access_key = T\n", nil, ":4: access key id \"AK\""},
		{"session token", "[a]\naws_access_key_id = AK\naws_secret_access_key = S\naws_session_token = T\n", nil, ":4: profile [a] has a session token"},
		{"outside a profile", "aws_access_key_id = AK\n", nil, ":1: \"aws_access_key_id\" outside"},
		{"not key=value", "[a]\njunk\n", nil, ":2: expected key = value"},
		{"bad section", "[a\n", nil, ":1: section header"},
		{"empty value", "[a]\naws_access_key_id =\n", nil, ":2: empty aws_access_key_id"},
		{"slash in key id", "[a]\naws_access_key_id = A/K\naws_secret_access_key = S\n", nil, "contains '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(p, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadCredentials(p)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want one naming %s and %q", err, p, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	if _, err := LoadCredentials(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
