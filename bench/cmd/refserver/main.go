// Command refserver runs the benchmarks' reference server (package
// miniais/bench/refserver): NOT miniais, the baseline it is measured
// against.
//
//	refserver -addr 127.0.0.1:0 -dirs /tmp/ref/d1,/tmp/ref/d2 -fsync never
//
// It prints "listening on HOST:PORT" once it accepts connections.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on the opt-in -pprof listener
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"miniais/bench/refserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("refserver", flag.ContinueOnError)
	addr := fset.String("addr", "127.0.0.1:0", "listen address")
	dirs := fset.String("dirs", "", "comma-separated object directories")
	fsync := fset.String("fsync", "always", "always or never, as aisnode -fsync")
	pprofAddr := fset.String("pprof", "", "opt-in pprof listener host:port")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *fsync != "always" && *fsync != "never" {
		return fmt.Errorf("-fsync %q: want always or never", *fsync)
	}
	srv, err := refserver.New(refserver.Config{Dirs: strings.Split(*dirs, ","), Fsync: *fsync == "always"})
	if err != nil {
		return err
	}
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
