package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/term"
)

// HumanSize renders n bytes in IEC units: "512 B", "1.50 KiB", "12.00 MiB".
func HumanSize(n int64) string {
	if n < 0 {
		return "-"
	}
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %ciB", f, units[i])
}

// newTable returns a tabwriter for aligned columns separated by two spaces.
// The caller must Flush it.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// isInteractive is the default Env.IsInteractive: r is an *os.File on a
// terminal.
func isInteractive(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printJSON writes v as indented JSON and a newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// progressThreshold is the smallest transfer that gets a progress bar.
const progressThreshold = 4 << 20

// progressInterval is the shortest time between two redraws of a bar.
const progressInterval = 100 * time.Millisecond

// isTerminal is the default Env.IsTerminal: w is an *os.File on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws a one-line progress bar on a terminal, redrawing at most
// every progressInterval. It is safe for concurrent use (the HTTP transport
// may read a body from another goroutine).
type progress struct {
	w     io.Writer
	label string
	total int64
	start time.Time

	mu   sync.Mutex
	done int64
	last time.Time
}

func newProgress(w io.Writer, label string, total int64) *progress {
	now := time.Now()
	return &progress{w: w, label: label, total: total, start: now, last: now}
}

func (p *progress) add(n int) {
	if p == nil || n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if now := time.Now(); now.Sub(p.last) >= progressInterval || p.done >= p.total {
		p.last = now
		fmt.Fprint(p.w, "\r"+progressLine(p.label, p.done, p.total, now.Sub(p.start), 30))
	}
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r"+progressLine(p.label, p.done, p.total, time.Since(p.start), 30)+"\n")
}

// progressLine renders "label [=====>     ]  45%  12.00 MiB / 27.00 MiB  5.10 MiB/s".
func progressLine(label string, done, total int64, elapsed time.Duration, width int) string {
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	fill := int(frac * float64(width))
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	rate := ""
	if s := elapsed.Seconds(); s > 0 {
		rate = "  " + HumanSize(int64(float64(done)/s)) + "/s"
	}
	return fmt.Sprintf("%s [%s] %3.0f%%  %s / %s%s", label, bar, frac*100, HumanSize(done), HumanSize(total), rate)
}

// progressWriter counts the bytes written through it into a bar.
type progressWriter struct {
	w io.Writer
	p *progress
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.add(n)
	return n, err
}

// progressFile counts the bytes read from a file into a bar. It exposes
// ReadAt and Seek so that api.Client.PutObject can still re-send it, and no
// Close.
type progressFile struct {
	f *os.File
	p *progress
}

func (pf *progressFile) Read(b []byte) (int, error) {
	n, err := pf.f.Read(b)
	pf.p.add(n)
	return n, err
}

func (pf *progressFile) ReadAt(b []byte, off int64) (int, error) {
	n, err := pf.f.ReadAt(b, off)
	pf.p.add(n)
	return n, err
}

func (pf *progressFile) Seek(off int64, whence int) (int64, error) { return pf.f.Seek(off, whence) }
