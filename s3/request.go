package s3

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"miniais/cluster"
)

// Level is what a request's path names: the service, a bucket or an object.
type Level int

// The levels.
const (
	LevelService Level = iota + 1
	LevelBucket
	LevelObject
)

// Op is one row of Operations: an S3 operation the gateway implements.
type Op struct {
	// Name is S3's name of the operation ("PutObject"); the server span is
	// named "S3 " + Name.
	Name string
	// Method and Level select the row, with Sub and Header.
	Method string
	Level  Level
	// Sub is the query parameter that selects the row ("" for none): a
	// request with it matches only such rows, one without it only rows
	// with another or none.
	Sub string
	// Header is a request header that selects the row (x-amz-copy-source).
	Header string
	// Query are the other query parameters the operation takes.
	Query []string
}

// Query parameters and headers of the operations.
const (
	QueryUploads    = "uploads"
	QueryUploadID   = "uploadId"
	QueryPartNumber = "partNumber"
	QueryLocation   = "location"
	QueryDelete     = "delete"
	QueryListType   = "list-type"

	HdrCopySource      = "X-Amz-Copy-Source"
	HdrCopySourceRange = "X-Amz-Copy-Source-Range"
)

// listQuery are the parameters of ListObjects and ListObjectsV2.
var (
	listV1Query = []string{"prefix", "delimiter", "max-keys", "marker", "encoding-type"}
	listV2Query = []string{"prefix", "delimiter", "max-keys", "continuation-token", "start-after", "fetch-owner", "encoding-type"}
)

// Operations is the one table of the S3 operations the gateway implements.
// A request that matches no row is refused with NotImplemented (an unknown
// subresource) or MethodNotAllowed (a known path with another method).
var Operations = [...]Op{
	{Name: "ListBuckets", Method: http.MethodGet, Level: LevelService},

	{Name: "CreateBucket", Method: http.MethodPut, Level: LevelBucket},
	{Name: "HeadBucket", Method: http.MethodHead, Level: LevelBucket},
	{Name: "DeleteBucket", Method: http.MethodDelete, Level: LevelBucket},
	{Name: "GetBucketLocation", Method: http.MethodGet, Level: LevelBucket, Sub: QueryLocation},
	{Name: "ListObjectsV2", Method: http.MethodGet, Level: LevelBucket, Sub: QueryListType, Query: listV2Query},
	{Name: "ListObjects", Method: http.MethodGet, Level: LevelBucket, Query: listV1Query},
	{Name: "ListMultipartUploads", Method: http.MethodGet, Level: LevelBucket, Sub: QueryUploads,
		Query: []string{"prefix", "max-uploads", "key-marker", "upload-id-marker", "encoding-type"}},
	{Name: "DeleteObjects", Method: http.MethodPost, Level: LevelBucket, Sub: QueryDelete},

	{Name: "UploadPartCopy", Method: http.MethodPut, Level: LevelObject, Sub: QueryUploadID, Header: HdrCopySource, Query: []string{QueryPartNumber}},
	{Name: "UploadPart", Method: http.MethodPut, Level: LevelObject, Sub: QueryUploadID, Query: []string{QueryPartNumber}},
	{Name: "CopyObject", Method: http.MethodPut, Level: LevelObject, Header: HdrCopySource},
	{Name: "PutObject", Method: http.MethodPut, Level: LevelObject},
	{Name: "ListParts", Method: http.MethodGet, Level: LevelObject, Sub: QueryUploadID, Query: []string{"max-parts", "part-number-marker"}},
	{Name: "GetObject", Method: http.MethodGet, Level: LevelObject, Query: []string{QueryPartNumber}},
	{Name: "HeadObject", Method: http.MethodHead, Level: LevelObject, Query: []string{QueryPartNumber}},
	{Name: "AbortMultipartUpload", Method: http.MethodDelete, Level: LevelObject, Sub: QueryUploadID},
	{Name: "DeleteObject", Method: http.MethodDelete, Level: LevelObject},
	{Name: "CreateMultipartUpload", Method: http.MethodPost, Level: LevelObject, Sub: QueryUploads},
	{Name: "CompleteMultipartUpload", Method: http.MethodPost, Level: LevelObject, Sub: QueryUploadID},
}

// subresources are the query parameters that select a row.
var subresources = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range Operations {
		if op.Sub != "" {
			m[op.Sub] = true
		}
	}
	return m
}()

// anyQuery are taken by every operation: the SDKs' operation hint (x-id)
// and the query form of Signature V4 (presigned URLs), which the verifier
// checks.
var anyQuery = []string{
	"x-id",
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
}

// Support says what the gateway does with an x-amz- request header.
type Support int

// The kinds of support of a header.
const (
	// Implemented: the gateway does what it asks.
	Implemented Support = iota + 1
	// Hint: accepted; it changes nothing the request means here.
	Hint
)

// Headers lists the x-amz- request headers the gateway takes (canonical
// form); any other x-amz- header is refused with NotImplemented before
// anything is read or written: it may change what the request means
// (encryption, object lock, ACLs, user metadata, tagging, ...).
var Headers = map[string]Support{
	"X-Amz-Date":                            Implemented, // Signature V4
	"X-Amz-Content-Sha256":                  Implemented, // Signature V4 (payload hash or UNSIGNED-PAYLOAD / STREAMING-...)
	"X-Amz-Decoded-Content-Length":          Implemented, // Signature V4 aws-chunked payloads
	"X-Amz-Trailer":                         Implemented, // aws-chunked trailing checksum (sigv4)
	"X-Amz-Copy-Source":                     Implemented,
	"X-Amz-Copy-Source-Range":               Implemented,
	"X-Amz-Copy-Source-If-Match":            Implemented,
	"X-Amz-Copy-Source-If-None-Match":       Implemented,
	"X-Amz-Copy-Source-If-Modified-Since":   Implemented,
	"X-Amz-Copy-Source-If-Unmodified-Since": Implemented,
	"X-Amz-Checksum-Crc32":                  Implemented, // verified by sigv4 while the body streams
	"X-Amz-Checksum-Crc32c":                 Implemented,
	"X-Amz-Checksum-Crc64nvme":              Implemented,
	"X-Amz-Checksum-Sha1":                   Implemented,
	"X-Amz-Checksum-Sha256":                 Implemented,
	"X-Amz-Sdk-Checksum-Algorithm":          Hint, // names the x-amz-checksum-* header it comes with
	"X-Amz-Checksum-Mode":                   Hint, // asks for response checksums, which are optional
	"X-Amz-User-Agent":                      Hint,
	"X-Amz-Expected-Bucket-Owner":           Hint, // one owner
	"X-Amz-Bucket-Object-Lock-Enabled":      Hint, // only "false" (checked by Parse)
	"X-Amz-Storage-Class":                   Hint, // only STANDARD (checked by Parse)
	"X-Amz-Metadata-Directive":              Hint, // only COPY (checked by Parse)
	"X-Amz-Acl":                             Hint, // only private (checked by Parse)
}

// headerValues are the values a Hint header may have (any other is refused).
var headerValues = map[string][]string{
	"X-Amz-Bucket-Object-Lock-Enabled": {"false"},
	"X-Amz-Storage-Class":              {"STANDARD"},
	"X-Amz-Metadata-Directive":         {"COPY"},
	"X-Amz-Acl":                        {"private", "bucket-owner-full-control"},
}

// refusedHeaders are standard request headers that change what a write
// means and that the gateway does not implement.
var refusedHeaders = map[string]string{
	"If-Match":            "conditional writes",
	"If-None-Match":       "conditional writes",
	"Cache-Control":       "stored Cache-Control",
	"Content-Disposition": "stored Content-Disposition",
	"Content-Language":    "stored Content-Language",
	"Expires":             "stored Expires",
}

// Request is a parsed S3 request.
type Request struct {
	// Op is the row of Operations.
	Op *Op
	// Bucket and Key are what the path names (Key is "" below the object
	// level).
	Bucket string
	Key    string
	// UploadID and PartNumber are the multipart query parameters (0: none).
	UploadID   string
	PartNumber int
}

// Parse finds r's operation, given the bucket and key of its path (as the
// router took them from /s3/BUCKET/KEY: bucket "" for the service). It
// refuses with NotImplemented any query parameter or header that the
// operation does not take, and checks the bucket name and the key.
func Parse(r *http.Request, bucket, key string) (*Request, error) {
	level := LevelService
	switch {
	case key != "":
		level = LevelObject
	case bucket != "":
		level = LevelBucket
	}
	q := r.URL.Query()
	op, err := match(r, q, level)
	if err != nil {
		return nil, err
	}
	req := &Request{Op: op, Bucket: bucket, Key: key}
	for name := range q {
		if name == op.Sub || slices.Contains(op.Query, name) || slices.Contains(anyQuery, name) {
			continue
		}
		return nil, Errorf(CodeNotImplemented, "%s: the query parameter %q is not implemented", op.Name, name)
	}
	if err := checkHeaders(r, op); err != nil {
		return nil, err
	}
	if bucket != "" {
		if err := (cluster.Bucket{Provider: cluster.ProviderAIS, Name: bucket}).Validate(); err != nil {
			return nil, Errorf(CodeInvalidBucketName, "the specified bucket %q is not valid: %v", bucket, err)
		}
	}
	if key != "" {
		if err := cluster.ValidateObjectName(key); err != nil {
			return nil, Errorf(CodeInvalidArgument, "key %q: %v", key, err)
		}
	}
	if q.Has(QueryUploadID) {
		req.UploadID = q.Get(QueryUploadID)
		if req.UploadID == "" {
			return nil, Errorf(CodeInvalidArgument, "empty %s", QueryUploadID)
		}
	}
	if q.Has(QueryPartNumber) {
		n, err := strconv.Atoi(q.Get(QueryPartNumber))
		if err != nil || n < 1 || n > 10000 {
			return nil, Errorf(CodeInvalidArgument, "part number must be an integer between 1 and 10000, inclusive")
		}
		req.PartNumber = n
		if op.Name == "GetObject" || op.Name == "HeadObject" {
			return nil, Errorf(CodeNotImplemented, "%s: %s (a part of a multipart object) is not implemented", op.Name, QueryPartNumber)
		}
	} else if op.Sub == QueryUploadID && r.Method == http.MethodPut {
		return nil, Errorf(CodeInvalidArgument, "%s needs %s", op.Name, QueryPartNumber)
	}
	if op.Name == "ListObjectsV2" && q.Get(QueryListType) != "2" {
		return nil, Errorf(CodeInvalidArgument, "list-type %q: only 2 is known", q.Get(QueryListType))
	}
	return req, nil
}

// match returns the row of Operations for r.
func match(r *http.Request, q url.Values, level Level) (*Op, error) {
	known := false
	for i := range Operations {
		op := &Operations[i]
		if op.Level != level {
			continue
		}
		if op.Sub != "" && !q.Has(op.Sub) {
			continue
		}
		if op.Sub == "" && hasOtherSub(q) {
			continue
		}
		known = true
		if op.Method != r.Method {
			continue
		}
		if op.Header != "" && r.Header.Get(op.Header) == "" {
			continue
		}
		return op, nil
	}
	if known {
		return nil, Errorf(CodeMethodNotAllowed, "the specified method %s is not allowed against this resource", r.Method)
	}
	for name := range q {
		if !slices.Contains(anyQuery, name) {
			return nil, Errorf(CodeNotImplemented, "%s %s?%s is not implemented", r.Method, levelName(level), name)
		}
	}
	return nil, Errorf(CodeNotImplemented, "%s on a %s is not implemented", r.Method, levelName(level))
}

// hasOtherSub reports whether q has a subresource of some row, or one the
// gateway does not know (any parameter that no row takes).
func hasOtherSub(q url.Values) bool {
	for name := range q {
		if subresources[name] {
			return true
		}
		if !takenByAny(name) {
			return true // an unknown subresource: ?acl, ?tagging, ...
		}
	}
	return false
}

func takenByAny(name string) bool {
	if slices.Contains(anyQuery, name) {
		return true
	}
	for _, op := range Operations {
		if slices.Contains(op.Query, name) {
			return true
		}
	}
	return false
}

func levelName(l Level) string {
	switch l {
	case LevelService:
		return "service"
	case LevelBucket:
		return "bucket"
	}
	return "object"
}

// checkHeaders refuses the x-amz- headers the gateway does not take and the
// standard ones that would change what a write means.
func checkHeaders(r *http.Request, op *Op) error {
	write := r.Method == http.MethodPut || r.Method == http.MethodPost
	for name, vals := range r.Header {
		if strings.HasPrefix(name, "X-Amz-") {
			s, ok := Headers[name]
			if !ok {
				return Errorf(CodeNotImplemented, "%s: the header %s is not implemented", op.Name, name)
			}
			if want, ok := headerValues[name]; ok && s == Hint && !slices.Contains(want, vals[0]) {
				return Errorf(CodeNotImplemented, "%s: %s: %q is not implemented (only %s)", op.Name, name, vals[0], strings.Join(want, ", "))
			}
			continue
		}
		if what, ok := refusedHeaders[name]; ok && write {
			return Errorf(CodeNotImplemented, "%s: the header %s (%s) is not implemented", op.Name, name, what)
		}
	}
	if op.Name == "CompleteMultipartUpload" {
		for name := range r.Header {
			if strings.HasPrefix(name, "X-Amz-Checksum-") {
				return Errorf(CodeNotImplemented, "%s: %s (a checksum of the whole object) is not implemented", op.Name, name)
			}
		}
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && ce != "aws-chunked" {
		return Errorf(CodeNotImplemented, "%s: Content-Encoding %q is not implemented (it would not be stored)", op.Name, ce)
	}
	return nil
}

// Addressing says how requests may name their bucket besides /s3/BUCKET/KEY.
type Addressing struct {
	// Root also takes path-style requests at the root (/BUCKET/KEY), every
	// path but those under the v1 API and the metrics.
	Root bool
	// Domain, when set, takes virtual-hosted-style requests: a Host
	// BUCKET.Domain (with any port) names the bucket, and the path (under
	// /s3 or, with Root, at the root) the key.
	Domain string
}

// Prefix is where the gateway serves path-style requests.
const Prefix = "/s3"

// Rewrite turns a root-path or virtual-hosted request into the path-style
// form /s3/BUCKET/KEY, in place, and reports whether r is an S3 request
// (a /s3 request is one, unchanged when not virtual-hosted). nonS3 tells
// which root paths belong to the node's own API.
func (a Addressing) Rewrite(r *http.Request, nonS3 func(path string) bool) bool {
	path := r.URL.Path
	under := path == Prefix || strings.HasPrefix(path, Prefix+"/")
	if !under && (!a.Root || nonS3(path)) {
		return false
	}
	rest := path
	if under {
		rest = strings.TrimPrefix(path, Prefix)
	}
	raw := r.URL.EscapedPath()
	rawRest := raw
	if under {
		rawRest = strings.TrimPrefix(raw, Prefix)
	}
	if b := a.hostBucket(r.Host); b != "" {
		rest = "/" + b + rest
		rawRest = "/" + url.PathEscape(b) + rawRest
	}
	if rest == "" {
		rest, rawRest = "/", "/"
	}
	r.URL.Path = Prefix + rest
	r.URL.RawPath = ""
	if raw != path {
		r.URL.RawPath = Prefix + rawRest
	}
	return true
}

// hostBucket returns the bucket a virtual-hosted Host names, or "".
func (a Addressing) hostBucket(host string) string {
	if a.Domain == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	b, ok := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(a.Domain))
	if !ok || b == "" {
		return ""
	}
	return b
}

// HdrETagMD5 is the header of a native PUT (an object, a part, a
// completion) that the gateway sends to a target to have it compute the
// MD5 while the body streams and keep it as the object's S3 ETag
// (fs.PutOptions.MD5). The target's reply carries the ETag in ETag.
const HdrETagMD5 = "Ais-S3-Etag"

// NativePart is one part of a target's reply to GET
// /v1/objects/B/O?uploadId=ID (the parts received so far), in JSON.
type NativePart struct {
	Number int    `json:"part-number"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

// Quote returns etag in double quotes, as S3 sends ETags.
func Quote(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}
