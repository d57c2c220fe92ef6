// Command aisnode runs one miniais node: a proxy (the gateway) or a target
// (storage). See `aisnode -help` and the README.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "aisnode:", err)
		os.Exit(1)
	}
}
