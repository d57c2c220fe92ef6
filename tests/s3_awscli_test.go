package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"miniais/tests/harness"
)

// The aws CLI against the proxy's S3 gateway: Debian's awscli package
// (installed by .ci/run), driven with --endpoint-url at <proxy>/s3 and
// path-style addressing, its configuration and credentials in a temp dir.
// The proxy's -s3_credentials file is the CLI's own credentials file with
// the good profile only, so "wrong" and "unknown" profiles sign with keys
// the proxy does not have.

const (
	cliKey    = "miniais-cli-key"
	cliSecret = "miniais/cli+secret=="
)

// awsCLI is the aws command of one test: its binary, configuration and
// endpoint.
type awsCLI struct {
	bin      string
	dir      string
	endpoint string
	env      []string
}

// awsBinary returns Debian's aws (/usr/bin/aws), else MINIAIS_AWS_BIN or
// the aws on PATH; without one the test skips (fails under CI).
func awsBinary(t testing.TB) string {
	if b := os.Getenv("MINIAIS_AWS_BIN"); b != "" {
		return b
	}
	if fi, err := os.Stat("/usr/bin/aws"); err == nil && fi.Mode()&0o111 != 0 {
		return "/usr/bin/aws"
	}
	b, err := exec.LookPath("aws")
	if err != nil {
		harness.Unavailable(t, "no aws CLI (install Debian's package: apt-get install awscli, or set MINIAIS_AWS_BIN)")
	}
	return b
}

// newAWSCLI writes the CLI's config (region, path-style addressing) and a
// credentials file with the profiles default (the good key), wrong (the
// good key id, another secret) and unknown (a key the proxy lacks). It
// returns the CLI and the path of a credentials file with the good key
// only, for the proxy.
func newAWSCLI(t testing.TB) (*awsCLI, string) {
	t.Helper()
	bin := awsBinary(t)
	dir := t.TempDir()
	cfg := "[default]\nregion = us-east-1\noutput = json\ns3 =\n    addressing_style = path\n" +
		"[profile wrong]\nregion = us-east-1\noutput = json\ns3 =\n    addressing_style = path\n" +
		"[profile unknown]\nregion = us-east-1\noutput = json\ns3 =\n    addressing_style = path\n"
	good := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", cliKey, cliSecret)
	all := good + fmt.Sprintf("\n[wrong]\naws_access_key_id = %s\naws_secret_access_key = not-the-secret\n", cliKey) +
		"\n[unknown]\naws_access_key_id = nobody\naws_secret_access_key = whatever\n"
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := &awsCLI{bin: bin, dir: dir}
	for _, kv := range os.Environ() { // none of the caller's AWS settings
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			a.env = append(a.env, kv)
		}
	}
	a.env = append(a.env,
		"AWS_CONFIG_FILE="+write("config", cfg),
		"AWS_SHARED_CREDENTIALS_FILE="+write("credentials", all),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "HOME="+dir)
	return a, write("proxy-credentials", good)
}

// run runs aws args... with the endpoint and returns its stdout, or the
// error with stderr.
func (a *awsCLI) run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, append([]string{"--endpoint-url", a.endpoint}, args...)...)
	cmd.Env = a.env
	cmd.Dir = a.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("aws %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// must runs aws and fails the test when it fails.
func (a *awsCLI) must(t testing.TB, ctx context.Context, args ...string) string {
	t.Helper()
	start := time.Now()
	out, err := a.run(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Logf("aws %s took %s", strings.Join(args, " "), d.Round(time.Millisecond))
	}
	return out
}

// ls runs aws s3 ls args..., which exits with 1 when it lists nothing.
func (a *awsCLI) ls(t testing.TB, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := a.run(ctx, append([]string{"s3", "ls"}, args...)...)
	if err != nil && !(strings.Contains(err.Error(), "exit status 1:") && strings.TrimSpace(out) == "") {
		t.Fatal(err)
	}
	return out
}

// refused runs aws, which must fail with an error naming one of codes.
func (a *awsCLI) refused(t testing.TB, ctx context.Context, codes []string, args ...string) {
	t.Helper()
	out, err := a.run(ctx, args...)
	if err == nil {
		t.Fatalf("aws %s succeeded (%q), want it refused with %v", strings.Join(args, " "), out, codes)
	}
	for _, c := range codes {
		if strings.Contains(err.Error(), c) {
			return
		}
	}
	t.Fatalf("%v\nwant an error naming one of %v", err, codes)
}

func awsWriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func awsSameFile(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d written", path, len(got), len(want))
	}
}

// TestS3AWSCLI drives the signed gateway with the aws CLI: buckets,
// objects small and multipart, ls, sync, s3api multipart of 100 MiB in
// 8 MiB parts, presign, copy-object, delete-objects, signed requests at the
// root path; a wrong or unknown key and an unsigned request are refused
// and change nothing.
func TestS3AWSCLI(t *testing.T) {
	ctx := testContext(t)
	a, proxyCreds := newAWSCLI(t)
	cl := harness.StartCluster(t, harness.Options{ProxyArgs: []string{"-s3_credentials", proxyCreds, "-s3_root"}})
	a.endpoint = cl.ProxyURL() + "/s3"
	if v, err := a.run(ctx, "--version"); err == nil {
		t.Logf("%s: %s", a.bin, strings.TrimSpace(v))
	}
	local := t.TempDir()
	small := randomBytes(100 << 10)
	large := randomBytes(20 << 20) // > 8 MiB: aws s3 cp uploads it in parts
	awsWriteFile(t, filepath.Join(local, "small"), small)
	awsWriteFile(t, filepath.Join(local, "large"), large)

	t.Run("mb", func(t *testing.T) {
		a.must(t, ctx, "s3", "mb", "s3://cli-bucket")
		a.must(t, ctx, "s3", "mb", "s3://cli-other")
		if out := a.ls(t, ctx); !strings.Contains(out, "cli-bucket") || !strings.Contains(out, "cli-other") {
			t.Fatalf("aws s3 ls: %q lacks the buckets", out)
		}
	})
	t.Run("cp", func(t *testing.T) {
		a.must(t, ctx, "s3", "cp", filepath.Join(local, "small"), "s3://cli-bucket/dir/small")
		a.must(t, ctx, "s3", "cp", filepath.Join(local, "large"), "s3://cli-bucket/large")
		a.must(t, ctx, "s3", "cp", "s3://cli-bucket/dir/small", filepath.Join(local, "small.back"))
		a.must(t, ctx, "s3", "cp", "s3://cli-bucket/large", filepath.Join(local, "large.back"))
		awsSameFile(t, filepath.Join(local, "small.back"), small)
		awsSameFile(t, filepath.Join(local, "large.back"), large)
		var head struct {
			ContentLength int64
			ETag          string
		}
		if err := json.Unmarshal([]byte(a.must(t, ctx, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "large")), &head); err != nil {
			t.Fatal(err)
		}
		if head.ContentLength != int64(len(large)) || !strings.Contains(head.ETag, "-") {
			t.Fatalf("head-object of the multipart upload: %+v, want %d bytes and a multipart ETag", head, len(large))
		}
	})
	t.Run("ls", func(t *testing.T) {
		out := a.ls(t, ctx, "s3://cli-bucket/")
		if !strings.Contains(out, "PRE dir/") || !strings.Contains(out, "large") {
			t.Fatalf("aws s3 ls s3://cli-bucket/: %q", out)
		}
		out = a.ls(t, ctx, "--recursive", "s3://cli-bucket")
		if !strings.Contains(out, "dir/small") {
			t.Fatalf("aws s3 ls --recursive: %q", out)
		}
	})
	t.Run("sync", func(t *testing.T) {
		tree := filepath.Join(local, "tree")
		files := map[string][]byte{}
		for i, name := range []string{"a.txt", "b/c.bin", "b/d/e.bin", "b/d/f g.txt", "h/i/j/k"} {
			files[name] = randomBytes(1000 * (i + 1))
			awsWriteFile(t, filepath.Join(tree, name), files[name])
		}
		// Listings have whole seconds: files older than their upload
		// keep a second sync from taking them for newer.
		old := time.Now().Add(-time.Hour)
		for name := range files {
			if err := os.Chtimes(filepath.Join(tree, name), old, old); err != nil {
				t.Fatal(err)
			}
		}
		a.must(t, ctx, "s3", "sync", tree, "s3://cli-bucket/tree")
		back := filepath.Join(local, "tree.back")
		a.must(t, ctx, "s3", "sync", "s3://cli-bucket/tree", back)
		for name, data := range files {
			awsSameFile(t, filepath.Join(back, name), data)
		}
		// A second sync has nothing to do.
		if out := a.must(t, ctx, "s3", "sync", tree, "s3://cli-bucket/tree"); strings.TrimSpace(out) != "" {
			t.Fatalf("second sync uploaded again: %q", out)
		}
	})
	t.Run("multipart", func(t *testing.T) {
		const part = 8 << 20
		data := randomBytes(100 << 20)
		var up struct{ UploadId string }
		if err := json.Unmarshal([]byte(a.must(t, ctx, "s3api", "create-multipart-upload", "--bucket", "cli-bucket", "--key", "mp/100MiB")), &up); err != nil || up.UploadId == "" {
			t.Fatalf("create-multipart-upload: %v %+v", err, up)
		}
		type done struct {
			ETag       string
			PartNumber int
		}
		var parts []done
		for i := 0; i*part < len(data); i++ {
			p := filepath.Join(local, fmt.Sprintf("part%d", i+1))
			awsWriteFile(t, p, data[i*part:min((i+1)*part, len(data))])
			var res struct{ ETag string }
			out := a.must(t, ctx, "s3api", "upload-part", "--bucket", "cli-bucket", "--key", "mp/100MiB",
				"--upload-id", up.UploadId, "--part-number", fmt.Sprint(i+1), "--body", p)
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.ETag == "" {
				t.Fatalf("upload-part %d: %v %q", i+1, err, out)
			}
			parts = append(parts, done{res.ETag, i + 1})
			os.Remove(p)
		}
		if len(parts) != 13 {
			t.Fatalf("%d parts, want 13", len(parts))
		}
		spec, _ := json.Marshal(map[string]any{"Parts": parts})
		awsWriteFile(t, filepath.Join(local, "parts.json"), spec)
		a.must(t, ctx, "s3api", "complete-multipart-upload", "--bucket", "cli-bucket", "--key", "mp/100MiB",
			"--upload-id", up.UploadId, "--multipart-upload", "file://"+filepath.Join(local, "parts.json"))
		out := filepath.Join(local, "100MiB.back")
		a.must(t, ctx, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "mp/100MiB", out)
		awsSameFile(t, out, data)
		os.Remove(out)
	})
	t.Run("presign", func(t *testing.T) {
		u := strings.TrimSpace(a.must(t, ctx, "s3", "presign", "s3://cli-bucket/dir/small", "--expires-in", "300"))
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, small) {
			t.Fatalf("GET of the presigned URL: %d, %d bytes (%.200s)", resp.StatusCode, len(got), got)
		}
		// The same URL with another key is not signed.
		resp, err = http.Get(strings.Replace(u, "dir/small", "large", 1))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("presigned URL for another key: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("copy-object", func(t *testing.T) {
		a.must(t, ctx, "s3api", "copy-object", "--copy-source", "cli-bucket/dir/small", "--bucket", "cli-bucket", "--key", "copy/same")
		a.must(t, ctx, "s3api", "copy-object", "--copy-source", "cli-bucket/large", "--bucket", "cli-other", "--key", "copy/other")
		a.must(t, ctx, "s3", "cp", "s3://cli-bucket/copy/same", filepath.Join(local, "same.back"))
		a.must(t, ctx, "s3", "cp", "s3://cli-other/copy/other", filepath.Join(local, "other.back"))
		awsSameFile(t, filepath.Join(local, "same.back"), small)
		awsSameFile(t, filepath.Join(local, "other.back"), large)
	})
	t.Run("delete-objects", func(t *testing.T) {
		for _, k := range []string{"del/1", "del/2", "del/3"} {
			a.must(t, ctx, "s3", "cp", filepath.Join(local, "small"), "s3://cli-bucket/"+k)
		}
		out := a.must(t, ctx, "s3api", "delete-objects", "--bucket", "cli-bucket",
			"--delete", `{"Objects":[{"Key":"del/1"},{"Key":"del/2"}]}`)
		var res struct {
			Deleted []struct{ Key string }
			Errors  []any
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Deleted) != 2 || len(res.Errors) != 0 {
			t.Fatalf("delete-objects: %v %q", err, out)
		}
		ls := a.ls(t, ctx, "s3://cli-bucket/del/")
		if strings.Contains(ls, "del/1") || strings.Contains(ls, " 1\n") || strings.Contains(ls, " 2\n") || !strings.Contains(ls, " 3\n") {
			t.Fatalf("after delete-objects: %q", ls)
		}
	})
	t.Run("checksum", func(t *testing.T) {
		// Flexible checksums, which the CLI sends as x-amz-checksum-*
		// headers over HTTP, are verified by the gateway.
		for _, algo := range []string{"CRC32", "CRC32C", "SHA1", "SHA256"} {
			a.must(t, ctx, "s3api", "put-object", "--bucket", "cli-bucket", "--key", "sum/"+algo,
				"--body", filepath.Join(local, "small"), "--checksum-algorithm", algo)
			a.must(t, ctx, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "sum/"+algo, filepath.Join(local, "sum.back"))
			awsSameFile(t, filepath.Join(local, "sum.back"), small)
		}
		// A checksum that does not match the body is refused and nothing
		// is stored.
		a.refused(t, ctx, []string{"BadDigest"}, "s3api", "put-object", "--bucket", "cli-bucket", "--key", "sum/wrong",
			"--body", filepath.Join(local, "small"), "--checksum-crc32", "AAAAAA==")
		if _, err := a.run(ctx, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "sum/wrong"); err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("head-object after a refused PUT: %v, want 404", err)
		}
	})
	t.Run("root", func(t *testing.T) {
		// The same signed requests at the root path (-s3_root), which the
		// gateway rewrites to /s3/...: the signature is of the path sent.
		root := *a
		root.endpoint = cl.ProxyURL()
		root.must(t, ctx, "s3", "cp", filepath.Join(local, "small"), "s3://cli-bucket/at root/small")
		root.must(t, ctx, "s3", "cp", "s3://cli-bucket/at root/small", filepath.Join(local, "root.back"))
		awsSameFile(t, filepath.Join(local, "root.back"), small)
		if out := a.ls(t, ctx, "s3://cli-bucket/at root/"); !strings.Contains(out, "small") {
			t.Fatalf("an object written at the root is not under /s3: %q", out)
		}
		root.must(t, ctx, "s3", "rm", "s3://cli-bucket/at root/small")
	})
	t.Run("refused", func(t *testing.T) {
		// The wrong secret for every kind of change and a listing; a key
		// the proxy lacks and no signature at all for a write and a delete.
		wrong, codes := []string{"--profile", "wrong"}, []string{"SignatureDoesNotMatch"}
		a.refused(t, ctx, codes, append(wrong, "s3", "cp", filepath.Join(local, "small"), "s3://cli-bucket/intruder")...)
		a.refused(t, ctx, codes, append(wrong, "s3", "ls", "s3://cli-bucket")...)
		a.refused(t, ctx, codes, append(wrong, "s3", "rm", "s3://cli-bucket/dir/small")...)
		a.refused(t, ctx, codes, append(wrong, "s3", "rb", "s3://cli-other")...)
		a.refused(t, ctx, codes, append(wrong, "s3", "mb", "s3://cli-intruder")...)
		for _, who := range []struct{ args, codes []string }{
			{[]string{"--profile", "unknown"}, []string{"InvalidAccessKeyId"}},
			{[]string{"--no-sign-request"}, []string{"AccessDenied"}},
		} {
			a.refused(t, ctx, who.codes, append(who.args, "s3", "cp", filepath.Join(local, "small"), "s3://cli-bucket/intruder")...)
			a.refused(t, ctx, who.codes, append(who.args, "s3", "rm", "s3://cli-bucket/dir/small")...)
		}
		// Nothing was touched.
		if _, err := a.run(ctx, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "intruder"); err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("head-object of the refused PUT: %v, want 404", err)
		}
		a.must(t, ctx, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "dir/small")
		a.must(t, ctx, "s3api", "head-bucket", "--bucket", "cli-other")
		if out := a.ls(t, ctx); strings.Contains(out, "cli-intruder") {
			t.Fatalf("a refused mb created a bucket: %q", out)
		}
	})
	t.Run("rm-rb", func(t *testing.T) {
		a.must(t, ctx, "s3", "rm", "s3://cli-bucket/dir/small")
		if out := a.ls(t, ctx, "s3://cli-bucket/dir/"); strings.Contains(out, "small") {
			t.Fatalf("after rm: %q", out)
		}
		a.must(t, ctx, "s3", "rm", "--recursive", "s3://cli-bucket")
		a.must(t, ctx, "s3", "rm", "--recursive", "s3://cli-other")
		if out := a.ls(t, ctx, "--recursive", "s3://cli-bucket"); strings.TrimSpace(out) != "" {
			t.Fatalf("after rm --recursive: %q", out)
		}
		a.must(t, ctx, "s3", "rb", "s3://cli-bucket")
		a.must(t, ctx, "s3", "rb", "s3://cli-other")
		if out := a.ls(t, ctx); strings.Contains(out, "cli-bucket") || strings.Contains(out, "cli-other") {
			t.Fatalf("after rb: %q", out)
		}
	})
}

// TestS3AWSCLIOpen drives a gateway without credentials with unsigned
// requests (--no-sign-request).
func TestS3AWSCLIOpen(t *testing.T) {
	ctx := testContext(t)
	a, _ := newAWSCLI(t)
	cl := harness.StartCluster(t, harness.Options{Targets: 1})
	a.endpoint = cl.ProxyURL() + "/s3"
	local := t.TempDir()
	data := randomBytes(12 << 20)
	awsWriteFile(t, filepath.Join(local, "obj"), data)
	a.must(t, ctx, "--no-sign-request", "s3", "mb", "s3://open-bucket")
	a.must(t, ctx, "--no-sign-request", "s3", "cp", filepath.Join(local, "obj"), "s3://open-bucket/obj")
	if out := a.must(t, ctx, "--no-sign-request", "s3", "ls", "s3://open-bucket"); !strings.Contains(out, "obj") {
		t.Fatalf("ls: %q", out)
	}
	a.must(t, ctx, "--no-sign-request", "s3", "cp", "s3://open-bucket/obj", filepath.Join(local, "obj.back"))
	awsSameFile(t, filepath.Join(local, "obj.back"), data)
	a.must(t, ctx, "--no-sign-request", "s3", "rm", "s3://open-bucket/obj")
	a.must(t, ctx, "--no-sign-request", "s3", "rb", "s3://open-bucket")
}
