// Command ais is the command-line client of a miniais cluster; see package
// miniais/cli for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"miniais/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
