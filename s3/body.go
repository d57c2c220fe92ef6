package s3

import (
	"errors"
	"io"
)

// Guard returns the reader of a request body of size bytes (size >= 0)
// that the gateway passes on to a target: it holds back the last bytes
// until body has said io.EOF, so that whoever reads it (a target storing
// the object) never sees the whole body of a request that fails at its end
// (a Signature V4 payload or digest that does not match: the sigv4
// package's body fails the Read that would return io.EOF), nor of one
// shorter or longer than size (IncompleteBody).
//
// The returned reader is not safe for concurrent use; it does not close
// body.
func Guard(body io.Reader, size int64) io.Reader { return &guard{r: body, left: size} }

// guard is the reader Guard returns.
type guard struct {
	r    io.Reader
	left int64
	err  error
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.left == 0 {
		g.err = g.finish()
		if g.err == nil {
			g.err = io.EOF
		}
		return 0, g.err
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	if g.left == 0 {
		// The last bytes: pass them on only when the body ends here, whole.
		if ferr := g.finish(); ferr != nil {
			g.err = ferr
			return 0, ferr
		}
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		g.err = Errorf(CodeIncompleteBody, "you did not provide the number of bytes specified by the Content-Length HTTP header (%d more expected)", g.left)
		return 0, g.err
	}
	if err != nil {
		g.err = err
		return 0, err
	}
	return n, nil
}

// maxEmptyReads bounds the reads that return nothing at the end of a body.
const maxEmptyReads = 100

// finish checks that the body ends here: its reader says io.EOF (and so
// has checked what it checks).
func (g *guard) finish() error {
	var one [1]byte
	for range maxEmptyReads {
		n, err := g.r.Read(one[:])
		if n > 0 {
			return Errorf(CodeIncompleteBody, "the body is longer than the Content-Length HTTP header says")
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}
