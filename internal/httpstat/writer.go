// Package httpstat records what an HTTP handler answered: the status and
// the body bytes, for the tracing and metrics middlewares of both nodes.
package httpstat

import (
	"io"
	"net/http"
)

// Writer wraps a ResponseWriter and records the first final status and the
// body bytes written through it. It keeps the wrapped writer's
// io.ReaderFrom (sendfile), http.Flusher and Unwrap (http.ResponseController).
// It is used by one request's goroutine.
type Writer struct {
	http.ResponseWriter
	// Status is the first final status written (200 when the body was
	// written first), 0 when nothing was.
	Status int
	// Written counts the body bytes.
	Written int64
}

// WriteHeader records the first final status.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 && code >= 200 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts and writes.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Written += int64(n)
	return n, err
}

// ReadFrom keeps the wrapped writer's io.ReaderFrom (sendfile).
func (w *Writer) ReadFrom(src io.Reader) (int64, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.Written += n
	return n, err
}

// Flush flushes the wrapped writer if it can.
func (w *Writer) Flush() {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
