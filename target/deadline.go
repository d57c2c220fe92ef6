package target

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"miniais/cluster"
)

// stallReader cuts off a request body that stops sending: before a read it
// moves the connection's read deadline to now+timeout, at most once per
// second so that the data path does not pay for it on every read.
type stallReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
	set     time.Time
}

func newStallReader(w http.ResponseWriter, r io.Reader, timeout time.Duration) *stallReader {
	return &stallReader{r: r, rc: http.NewResponseController(w), timeout: timeout}
}

func (s *stallReader) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(s.set) > time.Second {
		s.set = now
		s.rc.SetReadDeadline(now.Add(s.timeout)) // unsupported writers: no deadline
	}
	n, err := s.r.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// 408: the client stopped sending, the node did nothing wrong.
		err = cluster.Errorf(cluster.ErrTimeout, "request body stalled: nothing received for %v: %v", s.timeout, err)
	}
	return n, err
}

// writeDeadline returns the deadline of a reply of size bytes: the stall
// timeout plus the time to send size bytes at 1 MiB/s.
func writeDeadline(size int64, stall time.Duration) time.Time {
	return time.Now().Add(stall + time.Duration(size>>20)*time.Second)
}
