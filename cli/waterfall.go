package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"miniais/tracing/jaegerquery"
)

// waterfallRow is one line of a waterfall.
type waterfallRow struct {
	span  *jaegerquery.Span
	depth int
}

// orderSpans returns the spans in tree order: roots (spans whose parent is
// absent from the trace) by start time, each followed by its descendants,
// siblings by start time; ties break on span ID, so the order is stable.
func orderSpans(tr jaegerquery.Trace) []waterfallRow {
	byID := make(map[string]*jaegerquery.Span, len(tr.Spans))
	for i := range tr.Spans {
		byID[tr.Spans[i].SpanID] = &tr.Spans[i]
	}
	children := map[string][]*jaegerquery.Span{}
	var roots []*jaegerquery.Span
	for i := range tr.Spans {
		s := &tr.Spans[i]
		if p := s.ParentID(); p != "" && byID[p] != nil && p != s.SpanID {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	jaegerquery.SortByStart(roots)
	rows := make([]waterfallRow, 0, len(tr.Spans))
	seen := make(map[string]bool, len(tr.Spans))
	var walk func(s *jaegerquery.Span, depth int)
	walk = func(s *jaegerquery.Span, depth int) {
		if seen[s.SpanID] {
			return // a reference cycle in a malformed trace
		}
		seen[s.SpanID] = true
		rows = append(rows, waterfallRow{span: s, depth: depth})
		kids := children[s.SpanID]
		jaegerquery.SortByStart(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return rows
}

// formatMicros renders a duration given in microseconds: "850µs",
// "12.35ms", "2.104s".
func formatMicros(us int64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%dµs", us)
	case us < 1_000_000:
		return fmt.Sprintf("%.2fms", float64(us)/1e3)
	}
	return fmt.Sprintf("%.3fs", float64(us)/1e6)
}

// minBarWidth is the narrowest bar RenderWaterfall draws.
const minBarWidth = 10

// RenderWaterfall draws trace as a text waterfall on w, about width columns
// wide: a header line, then one line per span in tree order (children
// below their parent, siblings by start time), with the service (resolved
// through the trace's processes), the operation indented two spaces per
// depth, the start offset from the trace's first span, the duration, and a
// bar placed and scaled on the trace's total duration. A span that recorded
// an error is marked "!". It is a pure function of its arguments.
func RenderWaterfall(w io.Writer, tr jaegerquery.Trace, width int) error {
	rows := orderSpans(tr)
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "Trace %s has no spans\n", tr.TraceID)
		return err
	}
	first, last := rows[0].span.StartTime, rows[0].span.StartTime+rows[0].span.Duration
	services := map[string]bool{}
	for _, r := range rows {
		first = min(first, r.span.StartTime)
		last = max(last, r.span.StartTime+r.span.Duration)
	}
	total := max(last-first, 1)

	type line struct{ svc, op, start, dur string }
	lines := make([]line, len(rows))
	wSvc, wOp, wStart, wDur := len("SERVICE"), len("OPERATION"), len("START"), len("DURATION")
	for i, r := range rows {
		svc := r.span.ProcessID
		if p, ok := tr.Processes[r.span.ProcessID]; ok && p.ServiceName != "" {
			svc = p.ServiceName
		}
		services[svc] = true
		op := strings.Repeat("  ", r.depth) + r.span.OperationName
		if r.span.Failed() {
			op += " !"
		}
		lines[i] = line{svc, op, formatMicros(r.span.StartTime - first), formatMicros(r.span.Duration)}
		wSvc = max(wSvc, utf8.RuneCountInString(svc))
		wOp = max(wOp, utf8.RuneCountInString(op))
		wStart = max(wStart, utf8.RuneCountInString(lines[i].start))
		wDur = max(wDur, utf8.RuneCountInString(lines[i].dur))
	}
	barW := max(width-(wSvc+wOp+wStart+wDur+4*2+2), minBarWidth)

	svcNames := make([]string, 0, len(services))
	for s := range services {
		svcNames = append(svcNames, s)
	}
	slices.Sort(svcNames)
	var b strings.Builder
	fmt.Fprintf(&b, "Trace %s: %d spans, %s, services: %s\n", tr.TraceID, len(rows), formatMicros(last-first), strings.Join(svcNames, ", "))
	fmt.Fprintf(&b, "%s  %s  %s  %s  %s\n", pad("SERVICE", wSvc), pad("OPERATION", wOp), padLeft("START", wStart), padLeft("DURATION", wDur), "TIMELINE")
	for i, r := range rows {
		l := lines[i]
		from := int((r.span.StartTime - first) * int64(barW) / total)
		to := int((r.span.StartTime - first + r.span.Duration) * int64(barW) / total)
		from = min(from, barW-1)
		to = min(max(to, from+1), barW)
		bar := strings.Repeat(" ", from) + strings.Repeat("█", to-from) + strings.Repeat(" ", barW-to)
		fmt.Fprintf(&b, "%s  %s  %s  %s  |%s|\n", pad(l.svc, wSvc), pad(l.op, wOp), padLeft(l.start, wStart), padLeft(l.dur, wDur), bar)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(n-utf8.RuneCountInString(s), 0))
}

func padLeft(s string, n int) string {
	return strings.Repeat(" ", max(n-utf8.RuneCountInString(s), 0)) + s
}
