package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultRegion is the region a Verifier with no Region accepts.
	DefaultRegion = "us-east-1"
	// AnyRegion as a Verifier's Region accepts a signature made for any
	// region (what AIStore does).
	AnyRegion = "*"
	// DefaultMaxSkew is the clock skew a Verifier with no MaxSkew allows.
	DefaultMaxSkew = 15 * time.Minute
	// MaxPresignExpiry is the longest X-Amz-Expires a presigned URL may
	// have: seven days, as in S3.
	MaxPresignExpiry = 7 * 24 * time.Hour

	algorithm  = "AWS4-HMAC-SHA256"
	service    = "s3"
	terminator = "aws4_request"
	timeFormat = "20060102T150405Z"
	dayFormat  = "20060102"

	unsignedPayload        = "UNSIGNED-PAYLOAD"
	streamingSigned        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrail   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrail = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// maxKeyCache bounds the derived-key cache; it is emptied when full.
	maxKeyCache = 1024
)

// Verifier authenticates S3 requests signed with AWS Signature Version 4.
// Its fields are read-only once Verify is first called. A Verifier is safe
// for concurrent use and must not be copied after first use.
type Verifier struct {
	// Creds are the access keys that may sign. With none the Verifier
	// is open: see the package documentation.
	Creds Credentials
	// Region is the region signatures must be made for: DefaultRegion
	// when empty, any region when AnyRegion.
	Region string
	// MaxSkew is the largest difference allowed between a request's time
	// and Now: DefaultMaxSkew when zero.
	MaxSkew time.Duration
	// Now returns the current time: time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	keys map[keyScope][]byte // derived signing keys
}

// keyScope names one derived signing key.
type keyScope struct{ accessKey, day, region string }

// Result is an authenticated request.
type Result struct {
	// AccessKey is the access key id that signed the request; empty for
	// an anonymous request to an open Verifier.
	AccessKey string
	// Body yields the request's content: decoded from aws-chunked when
	// it was sent so, verified against every digest and signature the
	// request declares for it while it streams. A Read that reaches the
	// end of a content that does not match returns an error wrapping
	// ErrSignatureDoesNotMatch, ErrBadDigest or ErrMalformed instead of
	// io.EOF, so whoever forwards the Body aborts before completing
	// anything. Closing Body closes the request's body.
	Body io.ReadCloser
	// Size is the decoded length of the content
	// (x-amz-decoded-content-length or Content-Length), -1 when unknown.
	Size int64
}

// auth is what the request says about its signature.
type auth struct {
	accessKey     string
	day, region   string // of the credential scope
	signedHeaders []string
	signature     string
	amzDate       string // the request's time as signed
	time          time.Time
	payloadHash   string // as it enters the canonical request
	presigned     bool
}

// Verify authenticates r by its Authorization header or its presigned
// query string and returns the Result, or an error wrapping one of the
// package's sentinel errors, before any of r's body is read.
//
// The request must be as it arrived: the canonical URI is taken from
// r.RequestURI (so a handler that strips a path prefix does not break the
// signature), and r.Host is the signed host. On success Verify removes
// "aws-chunked" from r's Content-Encoding header (the header is deleted
// when nothing else is left), since it describes the transfer, not the
// object.
func (v *Verifier) Verify(r *http.Request) (Result, error) {
	a, err := v.parse(r)
	if err != nil {
		return Result{}, err
	}
	var key []byte
	if a != nil {
		if key, err = v.check(r, a); err != nil {
			return Result{}, err
		}
	}
	body, size, err := payload(r, a, key)
	if err != nil {
		return Result{}, err
	}
	stripAWSChunked(r.Header)
	res := Result{Body: body, Size: size}
	if a != nil {
		res.AccessKey = a.accessKey
	}
	return res, nil
}

// open tells whether v authenticates nobody.
func (v *Verifier) open() bool { return len(v.Creds) == 0 }

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

// parse reads the authentication information of r: nil for any request
// to an open Verifier, which checks no signature.
func (v *Verifier) parse(r *http.Request) (*auth, error) {
	if v.open() {
		return nil, nil
	}
	h := r.Header.Get("Authorization")
	q := r.URL.Query()
	presigned := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential")
	switch {
	case len(r.Header.Values("Authorization")) > 1:
		return nil, fail(ErrMalformed, "the request has more than one Authorization header")
	case h != "" && presigned:
		return nil, failCode(ErrMalformed, "InvalidArgument",
			"only one authentication mechanism is allowed: the Authorization header or the X-Amz- query parameters")
	case strings.HasPrefix(h, "AWS4-ECDSA-P256-SHA256"), q.Get("X-Amz-Algorithm") == "AWS4-ECDSA-P256-SHA256":
		return nil, fail(ErrNotImplemented, "AWS Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not implemented")
	case strings.HasPrefix(h, "AWS "), h == "" && q.Has("AWSAccessKeyId") && q.Has("Signature"):
		return nil, fail(ErrNotImplemented, "AWS Signature Version 2 is not implemented: sign with Signature Version 4")
	case h != "" && !strings.HasPrefix(h, algorithm+" "):
		scheme, _, _ := strings.Cut(h, " ")
		return nil, fail(ErrNotImplemented, "authorization scheme %q is not implemented: sign with %s", scheme, algorithm)
	case r.Header.Get("X-Amz-Security-Token") != "" || q.Has("X-Amz-Security-Token"):
		return nil, fail(ErrNotImplemented, "temporary credentials (X-Amz-Security-Token) are not implemented")
	}
	switch {
	case h != "":
		return v.parseHeader(r, h)
	case presigned:
		return v.parsePresigned(r, q)
	}
	return nil, fail(ErrAccessDenied, "the request is not signed: sign it with AWS Signature Version 4")
}

func (v *Verifier) parseHeader(r *http.Request, h string) (*auth, error) {
	a := &auth{}
	var cred, signed string
	seen := map[string]bool{}
	for _, part := range strings.Split(strings.TrimPrefix(h, algorithm+" "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return nil, fail(ErrMalformed, "the Authorization header is malformed: %q", part)
		}
		seen[k] = true
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			a.signature = val
		default:
			return nil, fail(ErrMalformed, "the Authorization header has an unknown component %q", k)
		}
	}
	if cred == "" || signed == "" || a.signature == "" {
		return nil, fail(ErrMalformed, "the Authorization header needs Credential, SignedHeaders and Signature")
	}
	if err := v.parseScope(a, cred); err != nil {
		return nil, err
	}
	var err error
	if a.signedHeaders, err = parseSignedHeaders(signed); err != nil {
		return nil, err
	}
	if a.amzDate, a.time, err = requestTime(r, a.signedHeaders); err != nil {
		return nil, err
	}
	if a.amzDate[:8] != a.day {
		return nil, fail(ErrMalformed, "the credential date %s is not the date of the request %s", a.day, a.amzDate)
	}
	a.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if a.payloadHash == "" {
		return nil, failCode(ErrMalformed, "InvalidArgument",
			"missing required header for this request: x-amz-content-sha256")
	}
	if !contains(a.signedHeaders, "x-amz-content-sha256") {
		return nil, fail(ErrAccessDenied, "x-amz-content-sha256 must be signed")
	}
	skew := v.maxSkew()
	if d := v.now().Sub(a.time); d > skew || d < -skew {
		return nil, fail(ErrRequestTimeTooSkewed,
			"the difference between the request time %s and the server's time is more than %s",
			a.time.Format(time.RFC3339), skew)
	}
	return a, nil
}

func (v *Verifier) parsePresigned(r *http.Request, q url.Values) (*auth, error) {
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if len(q[k]) != 1 || q[k][0] == "" {
			return nil, failCode(ErrMalformed, "InvalidArgument",
				"a presigned URL needs exactly one non-empty %s", k)
		}
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return nil, fail(ErrNotImplemented, "X-Amz-Algorithm %q is not implemented: use %s", alg, algorithm)
	}
	a := &auth{presigned: true, signature: q.Get("X-Amz-Signature"), amzDate: q.Get("X-Amz-Date")}
	if err := v.parseScope(a, q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	var err error
	if a.signedHeaders, err = parseSignedHeaders(q.Get("X-Amz-SignedHeaders")); err != nil {
		return nil, err
	}
	if a.time, err = time.Parse(timeFormat, a.amzDate); err != nil {
		return nil, failCode(ErrMalformed, "InvalidArgument", "X-Amz-Date %q is not of the form %s", a.amzDate, timeFormat)
	}
	if a.amzDate[:8] != a.day {
		return nil, fail(ErrMalformed, "the credential date %s is not the date of X-Amz-Date %s", a.day, a.amzDate)
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs < 0 {
		return nil, failCode(ErrMalformed, "InvalidArgument", "X-Amz-Expires %q is not a number of seconds", q.Get("X-Amz-Expires"))
	}
	if time.Duration(secs)*time.Second > MaxPresignExpiry {
		return nil, failCode(ErrMalformed, "InvalidArgument",
			"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	now := v.now()
	if a.time.Sub(now) > v.maxSkew() {
		return nil, fail(ErrExpiredPresign, "request is not valid yet: X-Amz-Date %s is in the future", a.amzDate)
	}
	if now.After(a.time.Add(time.Duration(secs) * time.Second)) {
		return nil, fail(ErrExpiredPresign, "request has expired")
	}
	a.payloadHash = q.Get("X-Amz-Content-Sha256")
	if a.payloadHash == "" {
		a.payloadHash = unsignedPayload
	}
	return a, nil
}

// parseScope reads "AKID/20130524/us-east-1/s3/aws4_request" into a and
// checks it against v.
func (v *Verifier) parseScope(a *auth, cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return fail(ErrMalformed, "the credential %q is not of the form <key>/<date>/<region>/s3/aws4_request", cred)
	}
	a.accessKey, a.day, a.region = parts[0], parts[1], parts[2]
	if _, err := time.Parse(dayFormat, a.day); err != nil {
		return fail(ErrMalformed, "the credential date %q is not of the form YYYYMMDD", a.day)
	}
	if parts[3] != service {
		return fail(ErrMalformed, "the credential service is %q, expected %q", parts[3], service)
	}
	if parts[4] != terminator {
		return fail(ErrMalformed, "the credential does not end with %q", terminator)
	}
	want := v.Region
	if want == "" {
		want = DefaultRegion
	}
	if want != AnyRegion && a.region != want {
		return fail(ErrMalformed, "the region %q is wrong; expecting %q", a.region, want)
	}
	if a.accessKey == "" {
		return fail(ErrMalformed, "the credential has no access key id")
	}
	return nil
}

// parseSignedHeaders reads "host;x-amz-date": lower case, sorted, no
// duplicates, host among them.
func parseSignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	for i, n := range names {
		if n == "" || n != strings.ToLower(n) || (i > 0 && names[i-1] >= n) {
			return nil, fail(ErrMalformed, "SignedHeaders %q must be lower-case header names, sorted, without duplicates", s)
		}
	}
	if !contains(names, "host") {
		return nil, fail(ErrMalformed, "SignedHeaders %q must include host", s)
	}
	return names, nil
}

// requestTime returns the signed time of a request authenticated by its
// Authorization header: X-Amz-Date, else Date, either signed.
func requestTime(r *http.Request, signed []string) (string, time.Time, error) {
	if s := r.Header.Get("X-Amz-Date"); s != "" {
		t, err := time.Parse(timeFormat, s)
		if err != nil {
			return "", time.Time{}, failCode(ErrMalformed, "InvalidArgument", "X-Amz-Date %q is not of the form %s", s, timeFormat)
		}
		if !contains(signed, "x-amz-date") {
			return "", time.Time{}, fail(ErrAccessDenied, "x-amz-date must be signed")
		}
		return s, t, nil
	}
	if s := r.Header.Get("Date"); s != "" {
		t, err := http.ParseTime(s)
		if err != nil {
			return "", time.Time{}, failCode(ErrMalformed, "InvalidArgument", "Date %q is not an HTTP date", s)
		}
		if !contains(signed, "date") {
			return "", time.Time{}, fail(ErrAccessDenied, "date must be signed")
		}
		return t.UTC().Format(timeFormat), t, nil
	}
	return "", time.Time{}, fail(ErrAccessDenied, "the request has neither X-Amz-Date nor Date")
}

// check verifies a's signature of r and returns the derived signing key.
func (v *Verifier) check(r *http.Request, a *auth) ([]byte, error) {
	secret, ok := v.Creds[a.accessKey]
	if !ok {
		return nil, failCode(ErrAccessDenied, "InvalidAccessKeyId",
			"the access key id %q is not in our records", a.accessKey)
	}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") && !contains(a.signedHeaders, l) {
			return nil, fail(ErrAccessDenied, "there were headers present in the request which were not signed: %s", l)
		}
	}
	key := v.signingKey(a.accessKey, secret, a.day, a.region)
	sts := stringToSign(a.amzDate, scope(a.day, a.region), canonicalRequest(r, a))
	if !sigEqual(sign(key, sts), a.signature) {
		return nil, fail(ErrSignatureDoesNotMatch,
			"the request signature we calculated does not match the signature you provided: check your key and signing method")
	}
	return key, nil
}

// signingKey returns the derived key of accessKey for day and region,
// from the cache when it is there.
func (v *Verifier) signingKey(accessKey, secret, day, region string) []byte {
	id := keyScope{accessKey, day, region}
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[id]; ok {
		return k
	}
	if v.keys == nil || len(v.keys) >= maxKeyCache {
		v.keys = make(map[keyScope][]byte)
	}
	k := deriveKey(secret, day, region)
	v.keys[id] = k
	return k
}

func deriveKey(secret, day, region string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// sign returns the hex signature of stringToSign.
func sign(key []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

// sigEqual compares two hex signatures in constant time.
func sigEqual(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(got))) == 1
}

func scope(day, region string) string {
	return day + "/" + region + "/" + service + "/" + terminator
}

func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// canonicalRequest builds the canonical request of r as signed by a.
func canonicalRequest(r *http.Request, a *auth) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, a.presigned))
	b.WriteByte('\n')
	for _, name := range a.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(a.payloadHash)
	return b.String()
}

// canonicalURI is the path as the client sent it: S3 signs the encoded
// path once, without normalizing or encoding it again.
func canonicalURI(r *http.Request) string {
	p := r.RequestURI
	if p == "" || p[0] != '/' { // not from a server, or absolute-form
		p = r.URL.EscapedPath()
	} else if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "/"
	}
	return p
}

// canonicalQuery sorts the query's parameters by their SigV4 encoding,
// leaving out X-Amz-Signature of a presigned URL. A parameter without a
// value signs as "name=".
func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	type param struct{ k, v string }
	var params []param
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		k, val = unescape(k), unescape(val)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{encode(k), encode(val)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// unescape decodes a query component; one that does not decode is taken
// as it is (the signature then decides).
func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// encode is SigV4's URI encoding: everything but A-Z a-z 0-9 - _ . ~ as
// %XX with upper-case hex.
func encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// headerValue is the canonical value of the signed header name: values
// trimmed, inner runs of spaces folded, several joined by ",".
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
		if r.Host == "" {
			vals = []string{r.URL.Host}
		}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.Header.Values("Transfer-Encoding")
		if len(vals) == 0 {
			vals = r.TransferEncoding
		}
	default:
		vals = r.Header.Values(name)
	}
	var b strings.Builder
	for i, s := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		foldSpaces(&b, s)
	}
	return b.String()
}

// foldSpaces writes s trimmed of spaces, with inner runs of spaces as one.
func foldSpaces(b *strings.Builder, s string) {
	s = strings.Trim(s, " ")
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(s[i])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stripAWSChunked removes aws-chunked from the Content-Encoding header.
func stripAWSChunked(h http.Header) {
	vals := h.Values("Content-Encoding")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, v := range vals {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
				keep = append(keep, e)
			}
		}
	}
	if len(keep) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(keep, ","))
}
