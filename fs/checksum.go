package fs

import (
	"hash"

	"miniais/checksum"
	"miniais/cluster"
)

// putHashes are the hashes of one Put, fed in the single pass over the body:
// stored computes the checksum kept with the object (of type checksum.None,
// computing nothing, in a none bucket), verify the client's type when it is
// not checksum.Same as the stored one (else verify is of type None and the
// stored hash verifies the client's value). Both are values, so that for
// xxhash2 a Put allocates no hash.
type putHashes struct {
	stored checksum.Hasher
	verify checksum.Hasher
	expect cluster.Checksum // the client's checksum; empty when none, or skipped
	md5    hash.Hash        // PutOptions.MD5 (etag.go); nil when not asked for
}

// init checks opts.ChecksumType and opts.Checksum (both must be well formed,
// even when the client's value is not verified) and sets up the hashes to
// compute. Errors wrap cluster.ErrBadRequest.
func (p *putHashes) init(opts *PutOptions) error {
	typ := opts.ChecksumType
	if typ == "" {
		typ = checksum.XXHash2
	}
	if err := p.stored.Reset(typ); err != nil {
		return err
	}
	p.initMD5(opts.MD5)
	if c := opts.Checksum; c.Value != "" {
		if c.Type == "" {
			c.Type = checksum.XXHash2
		}
		if err := checksum.Check(c.Type, c.Value); err != nil {
			return err
		}
		p.expect = c
	} else if c.Type != "" && !checksum.Valid(c.Type) {
		// A type without a value verifies nothing, but an unknown one is
		// refused rather than ignored.
		_, err := checksum.New(c.Type)
		return err
	}
	switch {
	case p.expect.Empty(), typ == checksum.None:
		// Nothing to verify, or a none bucket, which stores the client's
		// checksum unchecked (see PutOptions.ChecksumType).
	case opts.SkipVerify:
		p.expect = cluster.Checksum{}
	case !checksum.Same(p.expect.Type, typ):
		return p.verify.Reset(p.expect.Type) // a type that Check accepted
	}
	return nil
}

// write feeds b to the hashes.
func (p *putHashes) write(b []byte) {
	p.stored.Write(b)
	p.verify.Write(b)
	if p.md5 != nil {
		p.md5.Write(b)
	}
}

// result returns the checksum to store and, when it has one to verify, the
// value that the client's type gives for the body (else "").
func (p *putHashes) result() (stored cluster.Checksum, client string) {
	typ := p.stored.Type()
	if typ == checksum.None {
		if !p.expect.Empty() {
			return p.expect, "" // none bucket: the client's checksum, unchecked
		}
		return cluster.Checksum{Type: checksum.None}, ""
	}
	stored = cluster.Checksum{Type: typ, Value: p.stored.Value()}
	switch {
	case p.expect.Empty():
	case p.verify.Type() != checksum.None:
		client = p.verify.Value()
	default:
		client = stored.Value
	}
	return stored, client
}

// validateHash returns the hash that recomputes a stored checksum, or nil
// when the object has none to check (no value, or type checksum.None): it is
// then validated by its size only. An unknown stored type is an error.
func validateHash(c cluster.Checksum) (hash.Hash, error) {
	if c.Value == "" {
		return nil, nil
	}
	h, err := checksum.New(c.Type)
	if err == nil && h == nil {
		err = checksum.Check(c.Type, c.Value) // none with a value
	}
	return h, err
}
