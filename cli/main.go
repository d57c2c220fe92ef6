package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"miniais/api"
	"miniais/tracing"
)

// Exit codes of Run.
const (
	ExitOK    = 0 // success, or help
	ExitError = 1 // the command failed
	ExitUsage = 2 // bad command line
)

// Environment variables the CLI reads.
const (
	EnvEndpoint  = "AIS_ENDPOINT"   // the proxy's URL (default api.DefaultEndpoint)
	EnvJaegerURL = "AIS_JAEGER_URL" // Jaeger's query URL (default DefaultJaegerURL)
)

// DefaultJaegerURL is the Jaeger query endpoint used when AIS_JAEGER_URL is unset.
const DefaultJaegerURL = "http://localhost:16686"

// DefaultTraceEndpoint is the OTLP endpoint --trace exports to when the
// environment configures none.
const DefaultTraceEndpoint = "localhost:4317"

// Version is the CLI's version string.
const Version = "0.1.0"

// shutdownTimeout bounds the flush of the CLI's spans before it exits.
const shutdownTimeout = 3 * time.Second

// Env is everything one run of the CLI reads and writes besides the cluster:
// tests fill it in to drive the CLI in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up an environment variable; nil means an empty environment.
	Getenv func(string) string
	// IsTerminal tells whether w is a terminal (progress bars are drawn on
	// stderr only then); nil means: an *os.File on a terminal.
	IsTerminal func(w io.Writer) bool
	// IsInteractive tells whether r (Stdin) is a terminal a person can
	// answer a confirmation prompt on; nil means: an *os.File on a
	// terminal. A command that must confirm refuses to run, rather than
	// wait, when it is not (see confirm).
	IsInteractive func(r io.Reader) bool
	// HTTPClient, when set, carries the client's requests (tests).
	HTTPClient *http.Client
	// SpanProcessor, when set, turns tracing on and receives the CLI's spans
	// in addition to any exporter (tests).
	SpanProcessor sdktrace.SpanProcessor
	// WaterfallWidth is the width of --show-trace and "trace show" output;
	// 0 means 100 columns.
	WaterfallWidth int
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// Main runs the CLI with the process environment and returns the exit code.
// cmd/ais is os.Exit(cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(ctx, args, Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv})
}

// usageError is a bad command line: exit code ExitUsage.
type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// Run runs the CLI: args[0] is the program name. Errors go to env.Stderr as
// one line "Error: ..."; it returns ExitOK, ExitError or ExitUsage. Two
// Runs must not overlap: urfave/cli keeps its help flag in a package
// variable that every run writes.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.IsTerminal == nil {
		env.IsTerminal = isTerminal
	}
	if env.IsInteractive == nil {
		env.IsInteractive = isInteractive
	}
	app := newApp(&env)
	if len(args) == 0 {
		args = []string{"ais"}
	}
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return ExitOK
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
	var ue *usageError
	if errors.As(err, &ue) || !isRunError(err) {
		fmt.Fprintf(env.Stderr, "Error: %s (see '%s --help')\n", msg, strings.Join(commandPathOf(app, args), " "))
		return ExitUsage
	}
	fmt.Fprintf(env.Stderr, "Error: %s\n", msg)
	return ExitError
}

// runError marks an error from a command's action, as opposed to one from
// parsing the command line.
type runError struct{ err error }

func (r *runError) Error() string { return r.err.Error() }
func (r *runError) Unwrap() error { return r.err }

func isRunError(err error) bool {
	var re *runError
	return errors.As(err, &re)
}

// traceFlags are accepted globally and after every command.
func traceFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.BoolFlag{Name: "trace", Usage: "trace this command (forces sampling) and print its trace ID and Jaeger URL on stderr"},
		&ucli.BoolFlag{Name: "show-trace", Usage: "like --trace, then fetch the trace from Jaeger and draw it on stderr"},
	}
}

func newApp(env *Env) *ucli.App {
	onUsage := func(_ *ucli.Context, err error, _ bool) error { return &usageError{err} }
	app := &ucli.App{
		Name:  "ais",
		Usage: "command-line client of a miniais cluster",
		UsageText: "ais [global options] command [command options] [arguments...]\n" +
			"   ais bucket create ais://B; ais put FILE ais://B/OBJ; ais get ais://B/OBJ [OUT]; ais ls ais://B",
		Version: Version,
		Description: "The cluster endpoint comes from --endpoint, else $" + EnvEndpoint + " (default " + api.DefaultEndpoint + ").\n" +
			"Buckets are written ais://BUCKET, objects ais://BUCKET/OBJECT.\n" +
			"Tracing: $AIS_TRACING_ENDPOINT (OTLP gRPC) enables spans; --trace forces this command's trace\n" +
			"(exporting to " + DefaultTraceEndpoint + " if nothing is configured); Jaeger is $" + EnvJaegerURL + " (default " + DefaultJaegerURL + ").",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "endpoint", Usage: "cluster (proxy) URL; overrides $" + EnvEndpoint},
			&ucli.BoolFlag{Name: "direct", Usage: "send object requests straight to the owning target (client-side routing with the cluster map)"},
		}, traceFlags()...),
		Reader:         env.Stdin,
		Writer:         env.Stdout,
		ErrWriter:      env.Stderr,
		ExitErrHandler: func(*ucli.Context, error) {},
		OnUsageError:   onUsage,
		Action:         groupAction,
		Commands:       commands(env),
	}
	setUsage(app.Commands, onUsage)
	return app
}

func setUsage(cmds []*ucli.Command, f ucli.OnUsageErrorFunc) {
	for _, c := range cmds {
		c.OnUsageError = f
		if len(c.Subcommands) > 0 {
			if c.Action == nil {
				c.Action = groupAction
			}
			setUsage(c.Subcommands, f)
		}
	}
}

// groupAction runs a command that only groups subcommands: help without
// arguments, a usage error for an unknown subcommand.
func groupAction(c *ucli.Context) error {
	if c.Args().Present() {
		return usagef("unknown command %q", c.Args().First())
	}
	return ucli.ShowSubcommandHelp(c)
}

// runner is the state of one command's action: its context (inside the
// command's root span), the client, and the output streams.
type runner struct {
	ctx    context.Context
	env    *Env
	client *api.Client
	span   trace.Span
	stdout io.Writer
	stderr io.Writer
}

// setAttrs adds attributes to the command's root span.
func (r *runner) setAttrs(kv ...attribute.KeyValue) { r.span.SetAttributes(kv...) }

// action wraps a command implementation: it checks the argument count
// (maxArgs < 0: no limit), sets up tracing and the client, runs fn inside
// the root span "ais <command path>", then flushes the spans and, with
// --trace, reports the trace.
func action(env *Env, minArgs, maxArgs int, fn func(r *runner, c *ucli.Context) error) ucli.ActionFunc {
	return func(c *ucli.Context) error {
		n := c.Args().Len()
		switch {
		case n < minArgs:
			return usagef("%s: expected at least %d argument(s), got %d", c.Command.HelpName, minArgs, n)
		case maxArgs >= 0 && n > maxArgs:
			return usagef("%s: expected at most %d argument(s), got %d (flags go before '--')", c.Command.HelpName, maxArgs, n)
		}
		err := runTraced(c, env, fn)
		var ue *usageError
		if err != nil && !errors.As(err, &ue) {
			err = &runError{err}
		}
		return err
	}
}

func flagAnywhere(c *ucli.Context, name string) bool {
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.Bool(name) {
			return true
		}
	}
	return false
}

func stringAnywhere(c *ucli.Context, name string) string {
	for _, cc := range c.Lineage() {
		if cc.Command != nil {
			if v := cc.String(name); v != "" {
				return v
			}
		}
	}
	return ""
}

// commandName returns "ais bucket create" for the context of that command.
func commandName(c *ucli.Context) string {
	var names []string
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.Command.Name != "" && (len(names) == 0 || names[len(names)-1] != cc.Command.Name) {
			names = append(names, cc.Command.Name)
		}
	}
	if len(names) == 0 || names[len(names)-1] != "ais" {
		names = append(names, "ais")
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, " ")
}

func runTraced(c *ucli.Context, env *Env, fn func(r *runner, c *ucli.Context) error) error {
	showTrace := flagAnywhere(c, "show-trace")
	forced := showTrace || flagAnywhere(c, "trace")
	ctx := c.Context

	cfg, err := tracing.FromEnv(tracing.DefaultConfig(), env.getenv)
	if err != nil && forced {
		return fmt.Errorf("tracing configuration: %w", err)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Warning: tracing disabled: %v\n", err)
		cfg = tracing.DefaultConfig()
	}
	opts := tracing.Options{
		Role: tracing.RoleCLI, NodeID: "cli", Version: Version, SpanProcessor: env.SpanProcessor,
		Logger: slog.New(slog.DiscardHandler), // drops are reported below, in one line
	}
	if forced && !cfg.Enabled {
		cfg.Enabled = true
		if cfg.ExporterEndpoint == "" && env.SpanProcessor == nil {
			cfg.ExporterEndpoint = DefaultTraceEndpoint
		}
	}
	if env.SpanProcessor != nil {
		cfg.Enabled = true
	}
	p, err := tracing.New(ctx, cfg, opts)
	if err != nil {
		if forced {
			return fmt.Errorf("start tracing: %w", err)
		}
		fmt.Fprintf(env.Stderr, "Warning: tracing disabled: %v\n", err)
		p = tracing.Disabled()
	}
	if forced {
		ctx = tracing.WithForceSample(ctx)
	}
	ctx, span := p.Tracer("miniais/cli").Start(ctx, commandName(c))

	endpoint := stringAnywhere(c, "endpoint")
	if endpoint == "" {
		endpoint = env.getenv(EnvEndpoint)
	}
	var copts []api.Option
	if env.HTTPClient != nil {
		copts = append(copts, api.WithHTTPClient(env.HTTPClient))
	}
	if p.Enabled() {
		copts = append(copts, api.WithTracing(p.TracerProvider(), p.Propagator()))
	}
	if forced {
		copts = append(copts, api.WithHeader(tracing.ForceSampleHeader, "true"))
	}
	if flagAnywhere(c, "direct") {
		copts = append(copts, api.WithDirectRouting())
	}
	r := &runner{ctx: ctx, env: env, client: api.NewClient(endpoint, copts...), span: span, stdout: env.Stdout, stderr: env.Stderr}

	err = fn(r, c)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	serr := p.Shutdown(sctx)
	switch n := p.Dropped(); {
	case serr != nil:
		fmt.Fprintf(env.Stderr, "Warning: spans not exported to %s: %v (is the collector running?)\n", cfg.ExporterEndpoint, serr)
	case n > 0:
		fmt.Fprintf(env.Stderr, "Warning: %d span(s) not exported to %s (is the collector running?)\n", n, cfg.ExporterEndpoint)
	}
	if forced {
		reportTrace(sctx, env, span.SpanContext(), showTrace)
	}
	return err
}

// commandPathOf returns the command words of args ("ais", "bucket",
// "create") for messages.
func commandPathOf(app *ucli.App, args []string) []string {
	path := []string{app.Name}
	cmds := app.Commands
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		c := findCommand(cmds, a)
		if c == nil {
			break
		}
		path = append(path, c.Name)
		cmds = c.Subcommands
	}
	return path
}

func findCommand(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// reorderArgs moves the flags that follow a leaf command's arguments before
// them ("ais ls ais://b --prefix x" -> "ais ls --prefix x ais://b"), since
// the flag package stops at the first argument. Everything after "--" stays
// an argument; "-" (stdin/stdout) is an argument.
func reorderArgs(app *ucli.App, args []string) []string {
	cmds, flags := app.Commands, app.Flags
	i := 1
	for i < len(args) {
		a := args[i]
		if a == "--" {
			return args
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if takesValue(flags, a) {
				i++
			}
			i++
			continue
		}
		c := findCommand(cmds, a)
		if c == nil {
			return args
		}
		if len(c.Subcommands) == 0 {
			return append(args[:i+1:i+1], splitFlags(c.Flags, args[i+1:])...)
		}
		cmds, flags = c.Subcommands, c.Flags
		i++
	}
	return args
}

// splitFlags returns rest with its flags (and their values) first, then
// its arguments, keeping a "--" in front of any argument that needs it.
func splitFlags(flags []ucli.Flag, rest []string) []string {
	var fl, pos []string
	dashdash := false
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			dashdash = true
			pos = append(pos, rest[j+1:]...)
			j = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			fl = append(fl, a)
			if takesValue(flags, a) && j+1 < len(rest) {
				j++
				fl = append(fl, rest[j])
			}
		default:
			pos = append(pos, a)
		}
	}
	if dashdash {
		fl = append(fl, "--")
	}
	return append(fl, pos...)
}

// takesValue tells whether flag token a ("-x", "--name", "--name=v") names
// a non-boolean flag given without "=value".
func takesValue(flags []ucli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*ucli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
