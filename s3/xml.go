package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"time"
)

// The XML bodies of S3's replies and requests, in S3's element names
// (namespace XMLNS). Times are written in TimeFormat.

// XMLNS is S3's XML namespace.
const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

// TimeFormat is how S3's XML bodies write times (ISO 8601 in UTC, with
// milliseconds).
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Time formats t for an XML body.
func Time(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Owner is the owner of every bucket and object (the gateway has one).
type Owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// ErrorResponse is the body of every error reply.
type ErrorResponse struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	Resource   string   `xml:"Resource,omitempty"`
	RequestID  string   `xml:"RequestId,omitempty"`
	BucketName string   `xml:"BucketName,omitempty"`
	Key        string   `xml:"Key,omitempty"`
}

// BucketEntry is one bucket of ListAllMyBucketsResult.
type BucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
}

// ListAllMyBucketsResult is ListBuckets' reply.
type ListAllMyBucketsResult struct {
	XMLName xml.Name      `xml:"ListAllMyBucketsResult"`
	XMLNS   string        `xml:"xmlns,attr"`
	Owner   Owner         `xml:"Owner"`
	Buckets []BucketEntry `xml:"Buckets>Bucket"`
}

// CreateBucketConfiguration is CreateBucket's optional request body.
type CreateBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

// LocationConstraint is GetBucketLocation's reply.
type LocationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	XMLNS   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

// Object is one key of a listing.
type Object struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
	Owner        *Owner `xml:"Owner,omitempty"`
}

// CommonPrefix is one rolled-up prefix of a listing with a delimiter.
type CommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// ListBucketResult is the reply of ListObjects (Marker, NextMarker) and
// ListObjectsV2 (KeyCount, ContinuationToken, NextContinuationToken,
// StartAfter); each leaves the other's fields empty.
type ListBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	XMLNS                 string         `xml:"xmlns,attr"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker,omitempty"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int           `xml:"KeyCount,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []Object       `xml:"Contents"`
	CommonPrefixes        []CommonPrefix `xml:"CommonPrefixes"`
}

// InitiateMultipartUploadResult is CreateMultipartUpload's reply.
type InitiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	XMLNS    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// CompletedPart is one part of CompleteMultipartUpload's request.
type CompletedPart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

// CompleteMultipartUpload is CompleteMultipartUpload's request body.
type CompleteMultipartUpload struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []CompletedPart `xml:"Part"`
}

// CompleteMultipartUploadResult is CompleteMultipartUpload's reply.
type CompleteMultipartUploadResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	XMLNS    string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// Part is one part of ListPartsResult.
type Part struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

// ListPartsResult is ListParts' reply.
type ListPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	XMLNS                string   `xml:"xmlns,attr"`
	Bucket               string   `xml:"Bucket"`
	Key                  string   `xml:"Key"`
	UploadID             string   `xml:"UploadId"`
	PartNumberMarker     int      `xml:"PartNumberMarker"`
	NextPartNumberMarker int      `xml:"NextPartNumberMarker"`
	MaxParts             int      `xml:"MaxParts"`
	IsTruncated          bool     `xml:"IsTruncated"`
	StorageClass         string   `xml:"StorageClass"`
	Parts                []Part   `xml:"Part"`
}

// Upload is one upload of ListMultipartUploadsResult.
type Upload struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiated    string `xml:"Initiated"`
	StorageClass string `xml:"StorageClass"`
}

// ListMultipartUploadsResult is ListMultipartUploads' reply.
type ListMultipartUploadsResult struct {
	XMLName            xml.Name       `xml:"ListMultipartUploadsResult"`
	XMLNS              string         `xml:"xmlns,attr"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string         `xml:"Prefix"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []Upload       `xml:"Upload"`
	CommonPrefixes     []CommonPrefix `xml:"CommonPrefixes"`
}

// CopyObjectResult is CopyObject's reply.
type CopyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	XMLNS        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// CopyPartResult is UploadPartCopy's reply.
type CopyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	XMLNS        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// ObjectIdentifier is one key of DeleteObjects' request.
type ObjectIdentifier struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
}

// Delete is DeleteObjects' request body.
type Delete struct {
	XMLName xml.Name           `xml:"Delete"`
	Quiet   bool               `xml:"Quiet"`
	Objects []ObjectIdentifier `xml:"Object"`
}

// Deleted is one deleted key of DeleteResult.
type Deleted struct {
	Key string `xml:"Key"`
}

// DeleteError is one key of DeleteResult that was not deleted.
type DeleteError struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// DeleteResult is DeleteObjects' reply.
type DeleteResult struct {
	XMLName xml.Name      `xml:"DeleteResult"`
	XMLNS   string        `xml:"xmlns,attr"`
	Deleted []Deleted     `xml:"Deleted"`
	Errors  []DeleteError `xml:"Error"`
}

// MaxXMLBody bounds a request's XML body (S3 allows 1000 keys per
// DeleteObjects and 10000 parts per CompleteMultipartUpload).
const MaxXMLBody = 4 << 20

// DecodeXML decodes r's body, at most MaxXMLBody bytes, into v. The error
// is MalformedXML.
func DecodeXML(r *http.Request, v any) error {
	dec := xml.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxXMLBody))
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeMalformedXML, "the XML you provided was not well formed or did not validate against our published schema: %v", err)
	}
	return nil
}

// WriteXML writes v as the XML reply with status.
func WriteXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = xml.Marshal(ErrorResponse{Code: CodeInternalError, Message: err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
}

// WriteError writes e as S3's error reply to r, naming resource (the
// request's path) and the request ID (the trace ID when traced). A HEAD
// reply and a 304 have no body.
func WriteError(w http.ResponseWriter, r *http.Request, e *Error, requestID string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("ETag")
	if requestID != "" {
		h.Set("X-Amz-Request-Id", requestID)
	}
	if r.Method == http.MethodHead || e.Code.Status == http.StatusNotModified {
		w.WriteHeader(e.Code.Status)
		return
	}
	WriteXML(w, e.Code.Status, ErrorResponse{Code: e.Code.Name, Message: e.Message, Resource: r.URL.Path, RequestID: requestID})
}
