package fs

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"

	"miniais/checksum"
)

// # S3 ETags
//
// S3 clients expect an object's ETag to be the MD5 of its content, or for an
// object assembled from a multipart upload hex(md5(the parts' binary MD5s,
// in order)) + "-" + the number of parts. When asked (PutOptions.MD5,
// PartOptions.MD5, CompleteOptions.MD5), the store computes it in the same
// single pass over the body as the checksum and keeps it with the object as
// the custom pair CustomETag (unquoted). An object written without it (by
// the native API) has no such pair; an object moved between targets keeps
// only what the move carries (see the README's S3 section).

// CustomETag is the custom key of an object's S3 ETag.
const CustomETag = "ETag"

// initMD5 sets p up to compute the MD5 of the body when on.
func (p *putHashes) initMD5(on bool) {
	p.md5 = nil
	if on {
		p.md5 = md5.New()
	}
}

// md5Hex returns the hex MD5 of the body, "" when not computed.
func (p *putHashes) md5Hex() string {
	if p.md5 == nil {
		return ""
	}
	return hex.EncodeToString(p.md5.Sum(nil))
}

// setETag records the body's MD5, when computed, as a's CustomETag.
func (p *putHashes) setETag(a *ObjectAttrs) {
	if v := p.md5Hex(); v != "" {
		a.Custom = withETag(a.Custom, v)
	}
}

// withETag returns a copy of custom with CustomETag set to etag.
func withETag(custom map[string]string, etag string) map[string]string {
	out := maps.Clone(custom)
	if out == nil {
		out = make(map[string]string, 1)
	}
	out[CustomETag] = etag
	return out
}

// multipartETag returns S3's ETag of an object made of parts, "" when a part
// has no MD5 (it was sent without PartOptions.MD5).
func multipartETag(parts []PartInfo) (string, error) {
	h := md5.New()
	for _, p := range parts {
		if p.MD5 == "" {
			return "", nil
		}
		b, err := hex.DecodeString(p.MD5)
		if err != nil {
			return "", fmt.Errorf("fs: part %d has a malformed MD5 %q", p.Number, p.MD5)
		}
		h.Write(b)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts)), nil
}

// partETagMatches reports whether etag (unquoted) names part p: its
// checksum (the native API's part ETag) or its MD5 (S3's).
func partETagMatches(p PartInfo, etag string) bool {
	return checksum.Equal(etag, p.Checksum.Value) || (p.MD5 != "" && strings.EqualFold(etag, p.MD5))
}
