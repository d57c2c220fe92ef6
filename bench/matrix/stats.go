package matrix

import (
	"fmt"
	"slices"
)

// Summary is the median and the spread of a cell's repeats.
type Summary struct {
	// N is the number of values; with N == 0 the other fields are zero.
	N int `json:"n"`
	// Median is the middle value, or the mean of the two middle ones when
	// N is even.
	Median float64 `json:"median"`
	// Min and Max are the spread.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// summarize returns the median and the spread of vs; vs is not changed.
func summarize(vs []float64) Summary {
	if len(vs) == 0 {
		return Summary{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{N: n, Median: med, Min: s[0], Max: s[n-1]}
}

// format renders s as "MEDIAN (MIN-MAX)" with the verb f for each value
// ("%.0f"), or just MEDIAN for one value, or "-" for none.
func (s Summary) format(f string) string {
	switch s.N {
	case 0:
		return "-"
	case 1:
		return fmt.Sprintf(f, s.Median)
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median, s.Min, s.Max)
}

// order returns the order in which the rows are measured in the repeat
// with index repeat: as given in even repeats, reversed in odd ones
// (ABC, CBA, ABC, ...), so that for any two rows each is measured first as
// often as the other (give or take one), and a drift of the machine over
// the run (a filesystem filling up, another job starting) falls on both.
func order(rows []string, repeat int) []string {
	o := slices.Clone(rows)
	if repeat%2 == 1 {
		slices.Reverse(o)
	}
	return o
}
