package sigv4

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Credentials maps an access key id to its secret access key. A request
// signed with any of the pairs is authenticated as that access key.
//
// Credentials is read-only once a Verifier uses it.
type Credentials map[string]string

// LoadCredentials reads a credentials file in the format of the aws CLI's
// ~/.aws/credentials (see the package documentation): every profile's
// aws_access_key_id and aws_secret_access_key pair is a valid key. It fails
// with an error naming the file and line for a file it cannot read, a line
// it cannot parse, a profile with half a pair, a session token, an access
// key id given twice with different secrets, and a file with no keys.
func LoadCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("s3 credentials: %w", err)
	}
	defer f.Close()
	creds, err := parseCredentials(f, path)
	if err != nil {
		return nil, err
	}
	return creds, nil
}

// profile is one [section] of a credentials file as it is being read.
type profile struct {
	name       string
	line       int
	id, secret string
}

func parseCredentials(f *os.File, path string) (Credentials, error) {
	creds := Credentials{}
	var cur *profile
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("s3 credentials %s:%d: %s", path, line, fmt.Sprintf(format, args...))
	}
	closeProfile := func() error {
		if cur == nil {
			return nil
		}
		switch {
		case cur.id == "" && cur.secret == "":
			return nil // a profile with other settings only (region, output)
		case cur.id == "":
			return bad(cur.line, "profile [%s] has aws_secret_access_key but no aws_access_key_id", cur.name)
		case cur.secret == "":
			return bad(cur.line, "profile [%s] has aws_access_key_id but no aws_secret_access_key", cur.name)
		}
		if old, ok := creds[cur.id]; ok && old != cur.secret {
			return bad(cur.line, "access key id %q of profile [%s] is given before with another secret", cur.id, cur.name)
		}
		creds[cur.id] = cur.secret
		return nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, bad(n, "section header %q does not end with ']'", line)
			}
			if err := closeProfile(); err != nil {
				return nil, err
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			if name == "" {
				return nil, bad(n, "empty profile name")
			}
			cur = &profile{name: name, line: n}
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, bad(n, "expected key = value or [profile], got %q", line)
		}
		if cur == nil {
			return nil, bad(n, "%q outside a [profile] section", strings.TrimSpace(key))
		}
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		switch key {
		case "aws_access_key_id", "aws_secret_access_key":
			if val == "" {
				return nil, bad(n, "empty %s", key)
			}
			if key == "aws_access_key_id" {
				if strings.ContainsAny(val, "/ \t") {
					return nil, bad(n, "access key id %q contains '/' or a space", val)
				}
				cur.id = val
			} else {
				cur.secret = val
			}
		case "aws_session_token", "aws_security_token":
			return nil, bad(n, "profile [%s] has a session token: temporary credentials are not supported", cur.name)
		}
		// Other settings (region, output, ...) are the CLI's business.
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("s3 credentials %s:%d: %w", path, n+1, err)
	}
	if err := closeProfile(); err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("s3 credentials %s: %w", path, errNoKeys)
	}
	return creds, nil
}

var errNoKeys = errors.New("no aws_access_key_id / aws_secret_access_key pair in the file")
