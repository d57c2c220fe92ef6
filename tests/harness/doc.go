// Package harness starts real miniais processes, a real Jaeger and a containerized cluster
// for the integration tests in tests/, and cleans up after them.
//
// # Environment
//
// The Makefile (playground/test.sh) tells the harness where things are:
//
//   - MINIAIS_REPO: the repository root (default: found by walking up to go.mod)
//   - MINIAIS_BIN_DIR: aisnode and ais (default <repo>/bin; built with `go build` if missing)
//   - MINIAIS_JAEGER_BIN: the Jaeger all-in-one binary (default: the playground cache;
//     built with playground/jaeger.sh install if missing)
//   - MINIAIS_JAEGER_IMAGE: the Jaeger image (default: playground/jaeger.sh image)
//   - MINIAIS_JAEGER_MODE: docker or process, to force one (default: docker when an engine answers)
//   - MINIAIS_AISNODE_IMAGE: the aisnode image for StartCompose (default: playground/compose.sh image)
//   - CI=true: whatever the harness cannot start (Docker, Jaeger) fails the test instead of
//     skipping it. Elsewhere it skips, printing the reason.
//
// # Isolation
//
// Everything binds to 127.0.0.1 on ports picked free at start (FreePorts holds every
// listener open until all are chosen), and containers and compose projects get unique names, so tests run beside a running playground (`make deploy`) without colliding.
// Processes are stopped by PID and containers by name in t.Cleanup; on Linux a child process
// also dies with the test binary (Pdeathsig). When a test fails, the node logs are printed
// and their directory is kept.
//
// # Use
//
//	j := harness.StartJaeger(t)
//	c := harness.StartCluster(t, harness.Options{Targets: 3, TracingEndpoint: j.OTLPEndpoint()})
//	out := c.RunCLI(t, "bucket", "create", "ais://b")
//	tr, err := j.WaitTrace(ctx, traceID, 4)
//
// Jaeger.Trace and WaitTrace read traces back through tracing/jaegerquery (the CLI's
// waterfall reads them the same way); Trace and Span here are its types. Child processes
// are run by internal/proc, which the benchmark driver uses too.
//
// StartCompose runs playground/compose.yaml (with docker-compose, or the docker compose
// plugin: ComposeCommand) under a unique project; its HTTPClient reaches
// the containers from the host under the names the nodes advertise (proxy:8080,
// targetN:8081), so redirects work.
package harness
