package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api/wire"
)

// Properties and configuration are shown flattened: each leaf of the JSON
// object is one row, named by its dotted path ("checksum.type"), which is
// also how "bucket props set" and "config cluster" name what they change.

// flatEntry is one leaf of a flattened JSON object. val is what
// encoding/json decodes with UseNumber: string, json.Number, bool, nil or
// []any.
type flatEntry struct {
	key string
	val any
}

// flattenJSON decodes the JSON object b and returns its leaves sorted by
// key. Empty objects have no leaves and are left out.
func flattenJSON(b []byte) ([]flatEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return flatten(m), nil
}

// flatten returns the leaves of m sorted by key, ignoring case (AIStore's
// "Renamed" among the lowercase keys).
func flatten(m map[string]any) []flatEntry {
	var out []flatEntry
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out = append(out, flatEntry{prefix + k, v})
		}
	}
	walk("", m)
	slices.SortFunc(out, func(a, b flatEntry) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.key), strings.ToLower(b.key)), strings.Compare(a.key, b.key))
	})
	return out
}

// matching returns the entries whose keys start with prefix ("" for all).
func matching(ents []flatEntry, prefix string) []flatEntry {
	if prefix == "" {
		return ents
	}
	var out []flatEntry
	for _, e := range ents {
		if strings.HasPrefix(e.key, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// under returns the entries that are key itself or lie below it
// ("checksum" gives checksum.type, checksum.validate_warm_get, ...).
func under(ents []flatEntry, key string) []flatEntry {
	var out []flatEntry
	for _, e := range ents {
		if e.key == key || strings.HasPrefix(e.key, key+".") {
			out = append(out, e)
		}
	}
	return out
}

// nest rebuilds the nested JSON object of flat entries: "a.b"=v becomes
// {"a":{"b":v}}. A key that is both a leaf and a section is an error.
func nest(ents []flatEntry) (map[string]any, error) {
	root := map[string]any{}
	for _, e := range ents {
		parts := strings.Split(e.key, ".")
		m := root
		for i, p := range parts {
			if p == "" {
				return nil, fmt.Errorf("%q: empty name in a dotted key", e.key)
			}
			if i == len(parts)-1 {
				if _, dup := m[p]; dup {
					return nil, fmt.Errorf("%q: given twice, or both as a value and as a section", e.key)
				}
				m[p] = e.val
				break
			}
			next, ok := m[p].(map[string]any)
			if !ok {
				if _, dup := m[p]; dup {
					return nil, fmt.Errorf("%q: %q is a value, not a section", e.key, strings.Join(parts[:i+1], "."))
				}
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
	}
	return root, nil
}

// formatValue renders a leaf for a table: strings as they are ("-" when
// empty), numbers and bools as JSON writes them, null as "-", arrays as
// compact JSON.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		return dash(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// quoteValue renders a leaf as JSON, for "was:" messages.
func quoteValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// printFlat writes entries as a PROPERTY VALUE table; show, when not nil,
// renders the value of particular keys.
func printFlat(w io.Writer, ents []flatEntry, show map[string]func(any) string) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "PROPERTY\tVALUE")
	for _, e := range ents {
		s := formatValue(e.val)
		if f := show[e.key]; f != nil {
			s = f(e.val)
		}
		fmt.Fprintf(tw, "%s\t%s\n", e.key, s)
	}
	return tw.Flush()
}

// printFiltered shows the entries of the JSON object whole whose keys start
// with prefix: as a table, or with asJSON as nested JSON (whole itself when
// there is no prefix). No match is an error.
func printFiltered(w io.Writer, whole any, prefix, what string, asJSON bool, show map[string]func(any) string) error {
	b, err := json.Marshal(whole)
	if err != nil {
		return err
	}
	ents, err := flattenJSON(b)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	ents = matching(ents, prefix)
	if len(ents) == 0 {
		return fmt.Errorf("no %s key starts with %q", what, prefix)
	}
	if !asJSON {
		return printFlat(w, ents, show)
	}
	if prefix == "" {
		return printJSON(w, whole)
	}
	m, err := nest(ents)
	if err != nil {
		return err
	}
	return printJSON(w, m)
}

// bucketPropsView renders the properties whose raw values say little: the
// creation time (Unix nanoseconds).
var bucketPropsView = map[string]func(any) string{
	"created": func(v any) string { return formatAtime(formatValue(v)) },
}

func bucketPropsShow(r *runner, c *ucli.Context) error {
	bck, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	props, err := r.client.HeadBucket(r.ctx, bck)
	if err != nil {
		return err
	}
	return printFiltered(r.stdout, props, c.Args().Get(1), "bucket property", c.Bool("json"), bucketPropsView)
}

// parseAssignments parses KEY=VALUE arguments in order; a key given twice
// is an error.
func parseAssignments(args []string) ([]flatEntry, error) {
	out := make([]flatEntry, 0, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("%q: expected KEY=VALUE", a)
		}
		if slices.ContainsFunc(out, func(e flatEntry) bool { return e.key == k }) {
			return nil, usagef("%q given twice", k)
		}
		out = append(out, flatEntry{k, v})
	}
	return out, nil
}

// typedValue converts the text s to the JSON type of the property's
// current value cur: a bool, a number, or a string (which is what AIStore
// sends access and features as).
func typedValue(key, s string, cur any) (any, error) {
	switch cur.(type) {
	case bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, usagef("%s=%s: expected true or false", key, s)
		}
		return b, nil
	case json.Number:
		if _, err := strconv.ParseFloat(s, 64); err != nil || !json.Valid([]byte(s)) {
			return nil, usagef("%s=%s: expected a number", key, s)
		}
		return json.Number(s), nil
	case string, nil:
		return s, nil
	}
	return nil, usagef("%s: cannot be set from the command line (its value is %s)", key, quoteValue(cur))
}

// bucketPropsSet is "ais bucket props set B k=v ...": it reads the current
// properties (HEAD) to check each key and learn its type, then sends only
// the given keys, nested, in one set-bprops.
func bucketPropsSet(r *runner, c *ucli.Context) error {
	bck, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	sets, err := parseAssignments(c.Args().Slice()[1:])
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	props, err := r.client.HeadBucket(r.ctx, bck)
	if err != nil {
		return err
	}
	b, err := json.Marshal(props)
	if err != nil {
		return err
	}
	cur, err := flattenJSON(b)
	if err != nil {
		return err
	}
	was := make([]any, len(sets))
	for i, s := range sets {
		j := slices.IndexFunc(cur, func(e flatEntry) bool { return e.key == s.key })
		if j < 0 {
			if len(under(cur, s.key)) > 0 {
				return usagef("%q is a section; set one of its keys (see 'ais bucket props show %s %s')", s.key, bck, s.key)
			}
			return usagef("unknown bucket property %q (see 'ais bucket props show %s')", s.key, bck)
		}
		was[i] = cur[j].val
		if sets[i].val, err = typedValue(s.key, s.val.(string), cur[j].val); err != nil {
			return err
		}
	}
	partial, err := nest(sets)
	if err != nil {
		return &usageError{err}
	}
	id, err := r.client.UpdateBucketProps(r.ctx, bck, partial)
	if err != nil {
		return err
	}
	for i, s := range sets {
		fmt.Fprintf(r.stdout, "%q set to %s (was %s)\n", s.key, quoteValue(s.val), quoteValue(was[i]))
	}
	fmt.Fprintf(r.stdout, "Updated the properties of %s\n", bck)
	printCopiesJob(r, id)
	return nil
}

// printCopiesJob tells of the make-n-copies job a change of bucket
// properties started (id "" for none).
func printCopiesJob(r *runner, id string) {
	if id == "" {
		return
	}
	r.setAttrs(attribute.String("ais.job_id", id))
	fmt.Fprintf(r.stdout, "Started %s job %s (see 'ais show job %s')\n", wire.KindMakeNCopies, id, id)
}

func bucketPropsReset(r *runner, c *ucli.Context) error {
	bck, err := bucketArg(c.Args().First())
	if err != nil {
		return err
	}
	r.setAttrs(attribute.String("ais.bucket", bck.String()))
	id, err := r.client.ResetBucketProps(r.ctx, bck)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Reset the properties of %s to the defaults\n", bck)
	printCopiesJob(r, id)
	return nil
}
