#!/usr/bin/env bash
# bench.sh: `make bench`. Builds aisnode (with and without tracing), the
# reference server and the matrix driver into a temp dir, runs the benchmark
# matrix (bench/matrix: node CPU time per operation and throughput of the
# reference server and of miniais via proxy, direct and durable via proxy,
# every cell 3 times interleaved, medians with min-max; the issue-16 table
# against its goals) and then the headline figures of the Go benchmarks.
#
# Settings (environment): BENCH_TMP (/var/tmp: the parent of the work
# directory; on this machine creating a file under /tmp costs ~0.7 ms of
# kernel CPU, under /var/tmp ~20 us), BENCH_DURATION (3s per cell, of which
# the first and last 0.5 s are left out), BENCH_REPEATS (3), BENCH_FSYNC
# (never: the policy of every row but "durable"), BENCH_ROWS (ref,proxy,
# direct,durable; more: trace1,trace001,tail001,notracing,nometrics),
# BENCH_SIZES (4KiB,64KiB,1MiB; 16MiB adds the memory test), BENCH_PROFILE
# (a directory: a CPU profile of every node per cell, named
# ROW-OP-SIZE-rREPEAT-NODE.pprof), BENCH_JSON (a file for every sample),
# BENCH_GO=0 to skip the Go benchmarks, MINIAIS_JAEGER_BIN (the Jaeger
# binary for the trace rows; default the playground cache, installed by
# playground/jaeger.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}

bin=$(mktemp -d /tmp/miniais-bench-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
echo "# building into $bin"
CGO_ENABLED=0 $GO build -o "$bin/aisnode" ./cmd/aisnode
CGO_ENABLED=0 $GO build -tags notracing -o "$bin/aisnode-notracing" ./cmd/aisnode
CGO_ENABLED=0 $GO build -o "$bin/" ./bench/cmd/refserver ./bench/cmd/benchmatrix

jaeger=${MINIAIS_JAEGER_BIN:-$HOME/.cache/miniais/jaeger-v1.48.0/all-in-one}
if [[ ! -x "$jaeger" && "${BENCH_ROWS:-}" =~ trace|tail ]]; then
	playground/jaeger.sh install >&2 || echo "# no Jaeger binary: the trace rows will fail" >&2
fi

"$bin/benchmatrix" -bin "$bin" -jaeger "$jaeger" -tmp "${BENCH_TMP:-/var/tmp}" \
	-duration "${BENCH_DURATION:-3s}" -repeats "${BENCH_REPEATS:-3}" -fsync "${BENCH_FSYNC:-never}" \
	${BENCH_ROWS:+-rows "$BENCH_ROWS"} ${BENCH_SIZES:+-sizes "$BENCH_SIZES"} \
	${BENCH_PROFILE:+-profile "$BENCH_PROFILE"} ${BENCH_JSON:+-json "$BENCH_JSON"}

if [[ "${BENCH_GO:-1}" != 0 ]]; then
	echo
	echo "# Go benchmarks (headline figures, -benchtime=100ms)"
	# The headline lines only; a failing benchmark fails the script, with the whole output.
	status=0
	$GO test -run '^$' -bench . -benchtime=100ms -benchmem ./cluster/ ./fs/ ./transport/ >"$bin/gobench.out" 2>&1 || status=$?
	grep -E '^(Benchmark|ok|FAIL|---)' "$bin/gobench.out" || true
	if ((status != 0)); then
		echo "# the Go benchmarks failed (go test exit status $status); their output:" >&2
		cat "$bin/gobench.out" >&2
		exit "$status"
	fi
fi
