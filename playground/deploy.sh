#!/usr/bin/env bash
# deploy.sh: a local miniais cluster on 127.0.0.1 (one proxy, N targets), for trying things out.
#
# Usage: playground/deploy.sh deploy|jaeger|kill|clean|status
#
#   deploy  (re)start the cluster: proxy on 127.0.0.1:8080 (transport 9080), targets on
#           8081.. (transport 9081..); waits until it is healthy and prints what to type next.
#           Existing state is kept: a second deploy restarts the nodes with their data.
#   jaeger  start only Jaeger (playground/jaeger.sh start), state under PLAYGROUND_DIR
#   kill    stop exactly what the playground started (pid files, the Jaeger container name)
#   clean   kill, then remove PLAYGROUND_DIR
#   status  show what runs
#
# Settings (environment):
#   PLAYGROUND_DIR        /tmp/miniais: each node's data_dir, mountpaths, log and pid file
#   TARGETS               3
#   MOUNTPATHS            2 (per target)
#   MINIAIS_BIN_DIR       <repo>/bin (aisnode and ais)
#   AIS_TRACING_ENDPOINT  e.g. localhost:4317: enables tracing on every node and, when it
#                         names this host, starts a local Jaeger on that port first
#   JAEGER=1              same as AIS_TRACING_ENDPOINT=localhost:4317 (JAEGER=0: never start one)
#   PROMETHEUS=1          also start Prometheus on 127.0.0.1:9090 scraping every node
#                         (playground/prometheus.sh; Debian's `prometheus` package)
#   AIS_TRACING_TRUSTED_CLIENTS  127.0.0.0/8,::1: clients whose --trace (Ais-Trace-Force) and
#                         sampled traceparent the nodes honour ("none": no one's)
#   LOG_LEVEL             info
set -euo pipefail

# shellcheck source=playground/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=deploy

ROOT=$(repo_root)
PLAYGROUND_DIR=${PLAYGROUND_DIR:-/tmp/miniais}
TARGETS=${TARGETS:-3}
MOUNTPATHS=${MOUNTPATHS:-2}
BIN_DIR=${MINIAIS_BIN_DIR:-$ROOT/bin}
LOG_LEVEL=${LOG_LEVEL:-info}
PROXY_PORT=8080
TRANSPORT_PORT=9080
MARKER=$PLAYGROUND_DIR/.miniais-playground
JAEGER_SH=$ROOT/playground/jaeger.sh
PROMETHEUS_SH=$ROOT/playground/prometheus.sh
export PLAYGROUND_DIR
# The playground trusts local clients: `ais --trace` forces a trace, and a traced client's
# spans are the parents of the nodes'. Strangers (other addresses) cannot raise the bill.
export AIS_TRACING_TRUSTED_CLIENTS=${AIS_TRACING_TRUSTED_CLIENTS:-127.0.0.0/8,::1}

proxy_url() { echo "http://127.0.0.1:$PROXY_PORT"; }

# node_dirs prints every node directory of the playground, targets first, proxy last.
node_dirs() {
	local d
	for d in "$PLAYGROUND_DIR"/target*; do [[ -d "$d" ]] && echo "$d"; done
	[[ -d "$PLAYGROUND_DIR/proxy" ]] && echo "$PLAYGROUND_DIR/proxy"
	return 0
}

# stop_nodes stops every node recorded in a pid file: targets first, then the proxy.
stop_nodes() {
	local d
	while read -r d; do
		[[ -n "$d" ]] || continue
		stop_pid "$d/aisnode.pid" aisnode "$(basename "$d")"
	done < <(node_dirs)
}

# tracing_setup decides whether to enable tracing and start a local Jaeger.
tracing_setup() {
	if [[ "${JAEGER:-}" == "1" && -z "${AIS_TRACING_ENDPOINT:-}" ]]; then
		export AIS_TRACING_ENDPOINT=localhost:4317
	fi
	[[ -n "${AIS_TRACING_ENDPOINT:-}" ]] || return 0
	export AIS_TRACING_ENDPOINT
	local ep=${AIS_TRACING_ENDPOINT#*://} host port
	host=${ep%:*}
	port=${ep##*:}
	if [[ "${JAEGER:-}" != "0" && ("$host" == "localhost" || "$host" == "127.0.0.1") ]]; then
		JAEGER_OTLP_GRPC_PORT=$port "$JAEGER_SH" start
	else
		log "tracing to $AIS_TRACING_ENDPOINT (no local Jaeger started)"
	fi
}

# start_node NAME ROLE ARGS... starts one aisnode with its own data_dir, log and pid file.
start_node() {
	local name=$1 role=$2
	shift 2
	local dir=$PLAYGROUND_DIR/$name
	mkdir -p "$dir/data"
	echo "--- $(date -u +%FT%TZ) start: aisnode -role=$role $*" >>"$dir/aisnode.log"
	spawn "$dir/aisnode.pid" "$dir/aisnode.log" "$BIN_DIR/aisnode" -role="$role" \
		-data_dir="$dir/data" -secret_file="$PLAYGROUND_DIR/cluster.secret" \
		-log_level="$LOG_LEVEL" "$@"
}

# target_count prints how many targets the proxy's cluster map lists.
target_count() {
	http_get "$(proxy_url)/v1/daemon?what=smap" |
		grep -oE '"daemon_type"[[:space:]]*:[[:space:]]*"target"' | wc -l | tr -d ' '
}

# fail_logs prints the tail of every node's log and exits 1.
fail_logs() {
	local d
	while read -r d; do
		[[ -n "$d" ]] || continue
		echo "----- $d/aisnode.log (last 20 lines)" >&2
		tail -n 20 "$d/aisnode.log" >&2 || true
	done < <(node_dirs)
	die "$*"
}

cmd_deploy() {
	[[ "$TARGETS" =~ ^[1-9][0-9]?$ ]] || die "TARGETS must be 1..99, not '$TARGETS'"
	[[ "$MOUNTPATHS" =~ ^[1-9][0-9]?$ ]] || die "MOUNTPATHS must be 1..99, not '$MOUNTPATHS'"
	[[ -x "$BIN_DIR/aisnode" ]] || die "$BIN_DIR/aisnode is missing: run 'make build'"
	if [[ "${PROMETHEUS:-}" == "1" ]] && ! command -v "${PROMETHEUS_BIN:-prometheus}" >/dev/null 2>&1; then
		die "PROMETHEUS=1 needs Prometheus: install Debian's package (sudo apt-get install prometheus), or set PROMETHEUS_BIN"
	fi
	if [[ -d "$PLAYGROUND_DIR" && ! -f "$MARKER" && -n "$(ls -A "$PLAYGROUND_DIR")" ]]; then
		die "$PLAYGROUND_DIR exists and was not made by the playground; set PLAYGROUND_DIR"
	fi
	mkdir -p "$PLAYGROUND_DIR"
	touch "$MARKER"
	stop_nodes
	tracing_setup
	if [[ ! -s "$PLAYGROUND_DIR/cluster.secret" ]]; then
		(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$PLAYGROUND_DIR/cluster.secret")
	fi

	local start i j mps
	start=$(date +%s)
	start_node proxy proxy -public_addr="127.0.0.1:$PROXY_PORT" -transport_addr="127.0.0.1:$TRANSPORT_PORT"
	for ((i = 0; i < 100; i++)); do
		[[ "$(http_status "$(proxy_url)/v1/health")" != "000" ]] && break
		pid_alive "$PLAYGROUND_DIR/proxy/aisnode.pid" aisnode >/dev/null || fail_logs "the proxy exited"
		sleep 0.1
	done
	for ((i = 1; i <= TARGETS; i++)); do
		mps=""
		for ((j = 1; j <= MOUNTPATHS; j++)); do
			mkdir -p "$PLAYGROUND_DIR/target$i/mp$j"
			mps+="${mps:+,}$PLAYGROUND_DIR/target$i/mp$j"
		done
		start_node "target$i" target -public_addr="127.0.0.1:$((PROXY_PORT + i))" \
			-transport_addr="127.0.0.1:$((TRANSPORT_PORT + i))" \
			-proxy="127.0.0.1:$TRANSPORT_PORT" -mountpaths="$mps"
	done
	echo "TARGETS=$TARGETS MOUNTPATHS=$MOUNTPATHS AIS_TRACING_ENDPOINT=${AIS_TRACING_ENDPOINT:-}" >"$PLAYGROUND_DIR/deployed"

	local n=0 d
	for ((i = 0; i < 600; i++)); do
		if [[ "$(http_status "$(proxy_url)/v1/health")" == "200" ]]; then
			n=$(target_count)
			[[ "$n" -ge "$TARGETS" ]] && break
		fi
		for ((j = 0; j <= TARGETS; j++)); do
			d=target$j
			[[ $j -gt 0 ]] || d=proxy
			pid_alive "$PLAYGROUND_DIR/$d/aisnode.pid" aisnode >/dev/null || fail_logs "$d exited"
		done
		sleep 0.1
	done
	[[ "$n" -ge "$TARGETS" ]] || fail_logs "the cluster is not healthy after 60 s ($n of $TARGETS targets joined)"

	if [[ "${PROMETHEUS:-}" == "1" ]]; then
		PROXY_URL=$(proxy_url) "$PROMETHEUS_SH" start
	fi

	cat <<EOF
miniais playground is up in $(($(date +%s) - start)) s: proxy $(proxy_url), $TARGETS targets x $MOUNTPATHS mountpaths, state in $PLAYGROUND_DIR
tracing: ${AIS_TRACING_ENDPOINT:-off (AIS_TRACING_ENDPOINT=localhost:4317 make deploy, or make deploy JAEGER=1)}

Try:
  export AIS_ENDPOINT=$(proxy_url)${AIS_TRACING_ENDPOINT:+ AIS_TRACING_ENDPOINT=$AIS_TRACING_ENDPOINT}
  bin/ais bucket create ais://demo
  echo hello > /tmp/hello.txt && bin/ais put /tmp/hello.txt ais://demo/hello.txt
  bin/ais get ais://demo/hello.txt -
  bin/ais ls ais://demo
EOF
	if [[ -n "${AIS_TRACING_ENDPOINT:-}" ]] && "$JAEGER_SH" status >/dev/null 2>&1; then
		echo "  traces: http://127.0.0.1:${JAEGER_QUERY_PORT:-16686}/api/services (the UI page itself is a placeholder in a locally built Jaeger)"
	fi
	if [[ "${PROMETHEUS:-}" == "1" ]]; then
		echo "  metrics: http://${PROMETHEUS_ADDR:-127.0.0.1:9090}/graph?g0.expr=rate(ais_target_get_count[1m])   per node: curl $(proxy_url)/metrics"
		echo "  bin/ais show performance   (throughput and latency per node)"
	else
		echo "  metrics: curl $(proxy_url)/metrics   (make deploy PROMETHEUS=1 starts a Prometheus scraping every node)"
	fi
	echo "Logs: $PLAYGROUND_DIR/*/aisnode.log   Stop: make kill   Remove state: make clean"
}

# cmd_jaeger starts Jaeger alone, its state under PLAYGROUND_DIR (so kill and clean see it).
cmd_jaeger() {
	if [[ -d "$PLAYGROUND_DIR" && ! -f "$MARKER" && -n "$(ls -A "$PLAYGROUND_DIR")" ]]; then
		die "$PLAYGROUND_DIR exists and was not made by the playground; set PLAYGROUND_DIR"
	fi
	mkdir -p "$PLAYGROUND_DIR"
	touch "$MARKER"
	"$JAEGER_SH" start
}

cmd_kill() {
	"$PROMETHEUS_SH" stop
	stop_nodes
	if [[ -f "$PLAYGROUND_DIR/jaeger/mode" || -f "$PLAYGROUND_DIR/jaeger/jaeger.pid" ]]; then
		"$JAEGER_SH" stop
	fi
}

cmd_clean() {
	cmd_kill
	[[ -d "$PLAYGROUND_DIR" ]] || return 0
	case "$PLAYGROUND_DIR" in /|/tmp|/root|/home|"$HOME"|"") die "refusing to remove $PLAYGROUND_DIR" ;; esac
	[[ -f "$MARKER" ]] || die "$PLAYGROUND_DIR was not made by the playground; not removing it"
	rm -rf "$PLAYGROUND_DIR"
	log "removed $PLAYGROUND_DIR"
}

cmd_status() {
	local d pid
	[[ -f "$PLAYGROUND_DIR/deployed" ]] && echo "deployed: $(<"$PLAYGROUND_DIR/deployed")"
	while read -r d; do
		[[ -n "$d" ]] || continue
		if pid=$(pid_alive "$d/aisnode.pid" aisnode); then
			echo "$(basename "$d"): pid $pid"
		else
			echo "$(basename "$d"): not running"
		fi
	done < <(node_dirs)
	echo "proxy health: GET $(proxy_url)/v1/health -> $(http_status "$(proxy_url)/v1/health"), targets in the cluster map: $(target_count)"
	"$JAEGER_SH" status || true
	"$PROMETHEUS_SH" status || true
}

case "${1:-}" in
deploy) cmd_deploy ;;
jaeger) cmd_jaeger ;;
kill) cmd_kill ;;
clean) cmd_clean ;;
status) cmd_status ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
