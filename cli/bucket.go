package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"

	"miniais/api"
	"miniais/cluster"
)

// bucketArg parses a URI that must name a bucket and nothing else.
func bucketArg(s string) (cluster.Bucket, error) {
	bck, obj, err := api.ParseBucketURI(s)
	if err != nil {
		return bck, &usageError{err}
	}
	if obj != "" {
		return bck, usagef("%q names an object; expected ais://BUCKET", s)
	}
	return bck, nil
}

// objectArg parses a URI that must name an object.
func objectArg(s string) (cluster.Bucket, string, error) {
	bck, obj, err := api.ParseBucketURI(s)
	if err != nil {
		return bck, "", &usageError{err}
	}
	if obj == "" {
		return bck, "", usagef("%q names no object; expected ais://BUCKET/OBJECT", s)
	}
	if err := cluster.ValidateObjectName(obj); err != nil {
		return bck, "", &usageError{err}
	}
	return bck, obj, nil
}

func bucketCreate(r *runner, c *ucli.Context) error {
	return eachBucket(r, c, func(bck cluster.Bucket) error {
		if err := r.client.CreateBucket(r.ctx, bck); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Created bucket %s\n", bck)
		return nil
	})
}

func bucketRemove(r *runner, c *ucli.Context) error {
	return eachBucket(r, c, func(bck cluster.Bucket) error {
		if err := r.client.DestroyBucket(r.ctx, bck); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "Destroyed bucket %s\n", bck)
		return nil
	})
}

// bucketRemoveConfirmed is "ais rmb": "bucket rm" after a confirmation
// that --yes skips.
func bucketRemoveConfirmed(r *runner, c *ucli.Context) error {
	if !c.Bool("yes") {
		names := make([]string, 0, c.Args().Len())
		for _, a := range c.Args().Slice() {
			bck, err := bucketArg(a)
			if err != nil {
				return err
			}
			names = append(names, bck.String())
		}
		list := strings.Join(names, ", ")
		ok, err := r.confirm("destroy "+list, "Destroy "+list+" and every object in it?")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("canceled: nothing was destroyed")
		}
	}
	return bucketRemove(r, c)
}

// confirm asks question on stderr and reads the answer from stdin: "y" or
// "yes" (any case) says yes. When stdin is not a terminal nobody can
// answer, so it refuses at once, naming the action and --yes, instead of
// waiting.
func (r *runner) confirm(action, question string) (bool, error) {
	if !r.env.IsInteractive(r.env.Stdin) {
		return false, usagef("refusing to %s without confirmation: stdin is not a terminal (add --yes to confirm)", action)
	}
	fmt.Fprintf(r.stderr, "%s [y/N]: ", question)
	line, err := bufio.NewReader(r.env.Stdin).ReadString('\n')
	switch {
	case errors.Is(err, io.EOF):
		fmt.Fprintln(r.stderr) // end of input (^D) is no, on a line of its own
	case err != nil:
		return false, fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// eachBucket parses every argument first (so that a typo fails before any
// change), then applies fn to each bucket in order, stopping at the first
// error.
func eachBucket(r *runner, c *ucli.Context, fn func(cluster.Bucket) error) error {
	var bcks []cluster.Bucket
	for _, a := range c.Args().Slice() {
		bck, err := bucketArg(a)
		if err != nil {
			return err
		}
		bcks = append(bcks, bck)
	}
	if len(bcks) == 1 {
		r.setAttrs(attribute.String("ais.bucket", bcks[0].String()))
	}
	for _, bck := range bcks {
		if err := fn(bck); err != nil {
			return err
		}
	}
	return nil
}

func bucketList(r *runner, _ *ucli.Context) error {
	bcks, err := r.client.ListBuckets(r.ctx)
	if err != nil {
		return err
	}
	tw := newTable(r.stdout)
	fmt.Fprintln(tw, "NAME\tPROVIDER")
	for _, b := range bcks {
		fmt.Fprintf(tw, "%s\t%s\n", b, b.Provider)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "Total: %d bucket(s)\n", len(bcks))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatAtime renders an access time sent as Unix nanoseconds in local time
// ("2026-01-02 15:04:05"); any other form is shown as sent.
func formatAtime(s string) string {
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ns <= 0 {
		return dash(s)
	}
	return time.Unix(0, ns).Local().Format(time.DateTime)
}
