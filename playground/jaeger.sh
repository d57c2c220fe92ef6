#!/usr/bin/env bash
# jaeger.sh: a local Jaeger v1 all-in-one (memory storage) for the playground and the tests.
#
# Usage: playground/jaeger.sh install|image|start|stop|status|wait|env
#
#   install  build the static Jaeger binary with `go install` into the cache (once; ~1 min)
#   image    print a Docker image to run: JAEGER_IMAGE if present or pullable, else
#            miniais/jaeger:VERSION built locally FROM scratch with the binary (cached)
#   start    start Jaeger: a container when a Docker engine answers, else a process;
#            every port on 127.0.0.1; waits until it is ready and prints the mode in use
#   stop     stop what `start` started (by container name or pid file, nothing else)
#   status   print what runs; exit 1 when Jaeger does not run
#   wait     wait until GET http://127.0.0.1:ADMIN_PORT/ answers 200
#   env      print MINIAIS_JAEGER_BIN=... and MINIAIS_JAEGER_IMAGE=... lines for the tests
#
# Settings (environment):
#   JAEGER_VERSION      1.48.0 (the newest v1 whose go.mod allows `go install`)
#   JAEGER_CACHE_DIR    $HOME/.cache/miniais/jaeger-v$JAEGER_VERSION
#   MINIAIS_JAEGER_BIN  the binary to use (default: $JAEGER_CACHE_DIR/all-in-one)
#   JAEGER_IMAGE        jaegertracing/all-in-one:$JAEGER_VERSION (pulled when possible)
#   JAEGER_LOCAL_IMAGE  miniais/jaeger:$JAEGER_VERSION (the fallback built here)
#   JAEGER_MODE         auto (default), docker or process
#   JAEGER_NAME         container name, default miniais-jaeger
#   JAEGER_STATE_DIR    pid, log and mode files, default ${PLAYGROUND_DIR:-/tmp/miniais}/jaeger
#   JAEGER_OTLP_GRPC_PORT 4317, JAEGER_OTLP_HTTP_PORT 4318, JAEGER_QUERY_PORT 16686,
#   JAEGER_QUERY_GRPC_PORT 16685, JAEGER_ADMIN_PORT 14269 (host ports, all on 127.0.0.1)
#   CI=true             Docker is required: no engine or no image is an error
set -euo pipefail

# shellcheck source=playground/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=jaeger

JAEGER_VERSION=${JAEGER_VERSION:-1.48.0}
JAEGER_CACHE_DIR=${JAEGER_CACHE_DIR:-${HOME}/.cache/miniais/jaeger-v${JAEGER_VERSION}}
JAEGER_BIN=${MINIAIS_JAEGER_BIN:-${JAEGER_CACHE_DIR}/all-in-one}
JAEGER_IMAGE=${JAEGER_IMAGE:-jaegertracing/all-in-one:${JAEGER_VERSION}}
JAEGER_LOCAL_IMAGE=${JAEGER_LOCAL_IMAGE:-miniais/jaeger:${JAEGER_VERSION}}
JAEGER_MODE=${JAEGER_MODE:-auto}
JAEGER_NAME=${JAEGER_NAME:-miniais-jaeger}
JAEGER_STATE_DIR=${JAEGER_STATE_DIR:-${PLAYGROUND_DIR:-/tmp/miniais}/jaeger}

P_OTLP_GRPC=${JAEGER_OTLP_GRPC_PORT:-4317}
P_OTLP_HTTP=${JAEGER_OTLP_HTTP_PORT:-4318}
P_QUERY=${JAEGER_QUERY_PORT:-16686}
P_QUERY_GRPC=${JAEGER_QUERY_GRPC_PORT:-16685}
P_ADMIN=${JAEGER_ADMIN_PORT:-14269}

PIDFILE=$JAEGER_STATE_DIR/jaeger.pid
LOGFILE=$JAEGER_STATE_DIR/jaeger.log
MODEFILE=$JAEGER_STATE_DIR/mode

# cmd_install builds the binary once. A lock keeps two concurrent installs from racing.
cmd_install() {
	if [[ -x "$JAEGER_BIN" ]]; then
		log "binary present: $JAEGER_BIN"
		return 0
	fi
	[[ -z "${MINIAIS_JAEGER_BIN:-}" ]] || die "MINIAIS_JAEGER_BIN=$MINIAIS_JAEGER_BIN is not an executable"
	command -v go >/dev/null 2>&1 || die "go is not installed: cannot build Jaeger"
	mkdir -p "$JAEGER_CACHE_DIR"
	exec 9>"$JAEGER_CACHE_DIR/.lock"
	flock 9
	if [[ -x "$JAEGER_BIN" ]]; then # built by whoever held the lock
		log "binary present: $JAEGER_BIN"
		return 0
	fi
	local tmp start
	tmp=$(mktemp -d "$JAEGER_CACHE_DIR/build.XXXXXX")
	start=$(date +%s)
	log "building github.com/jaegertracing/jaeger/cmd/all-in-one@v$JAEGER_VERSION (about a minute on 2 cores)"
	(cd / && GOWORK=off GOFLAGS= GOBIN="$tmp" CGO_ENABLED=0 \
		go install -trimpath -ldflags "-s -w" \
		"github.com/jaegertracing/jaeger/cmd/all-in-one@v${JAEGER_VERSION}") ||
		{ rm -rf "$tmp"; die "go install of Jaeger failed"; }
	mv "$tmp/all-in-one" "$JAEGER_BIN"
	rm -rf "$tmp"
	log "built $JAEGER_BIN in $(($(date +%s) - start)) s"
}

# image_exists NAME answers true when the image is in the local Docker engine.
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# cmd_image prints the image to run (stdout), pulling or building it as needed.
cmd_image() {
	docker_ok || die "no Docker engine: $(docker_why)"
	if [[ "$JAEGER_IMAGE" != "$JAEGER_LOCAL_IMAGE" ]]; then
		if image_exists "$JAEGER_IMAGE"; then
			echo "$JAEGER_IMAGE"
			return 0
		fi
		if [[ "${JAEGER_PULL:-1}" != "0" ]] && timeout 300 docker pull -q "$JAEGER_IMAGE" >/dev/null 2>&1; then
			log "pulled $JAEGER_IMAGE"
			echo "$JAEGER_IMAGE"
			return 0
		fi
		log "cannot pull $JAEGER_IMAGE; using $JAEGER_LOCAL_IMAGE built locally"
	fi
	if image_exists "$JAEGER_LOCAL_IMAGE"; then
		echo "$JAEGER_LOCAL_IMAGE"
		return 0
	fi
	cmd_install
	local ctx start
	ctx=$(mktemp -d)
	cp "$JAEGER_BIN" "$ctx/all-in-one"
	mkdir -p "$ctx/tmp"
	cat >"$ctx/Dockerfile" <<'EOF'
# Jaeger all-in-one from a static binary: no base image, so no registry is needed.
FROM scratch
COPY all-in-one /all-in-one
COPY tmp /tmp
ENV SPAN_STORAGE_TYPE=memory COLLECTOR_OTLP_ENABLED=true
EXPOSE 4317 4318 5778 14250 14268 14269 16685 16686 5775/udp 6831/udp 6832/udp
ENTRYPOINT ["/all-in-one"]
EOF
	start=$(date +%s)
	DOCKER_BUILDKIT=0 docker build -q --label miniais.playground=jaeger \
		-t "$JAEGER_LOCAL_IMAGE" "$ctx" >/dev/null 2>"$ctx/build.err" ||
		{ cat "$ctx/build.err" >&2; rm -rf "$ctx"; die "docker build of $JAEGER_LOCAL_IMAGE failed"; }
	rm -rf "$ctx"
	log "built image $JAEGER_LOCAL_IMAGE in $(($(date +%s) - start)) s"
	echo "$JAEGER_LOCAL_IMAGE"
}

# container_running answers true when our container runs.
container_running() {
	[[ "$(docker inspect -f '{{.State.Running}}' "$JAEGER_NAME" 2>/dev/null)" == "true" ]]
}

# use_docker decides the mode; under CI=true, no Docker engine is an error.
use_docker() {
	case "$JAEGER_MODE" in
	docker) docker_ok || die "JAEGER_MODE=docker but $(docker_why)"; return 0 ;;
	process) is_ci && die "JAEGER_MODE=process is not allowed under CI=true"; return 1 ;;
	auto)
		if docker_ok; then return 0; fi
		is_ci && die "CI=true requires a Docker engine: $(docker_why)"
		return 1 ;;
	*) die "JAEGER_MODE must be auto, docker or process, not $JAEGER_MODE" ;;
	esac
}

cmd_start() {
	mkdir -p "$JAEGER_STATE_DIR"
	if status_line >/dev/null; then
		status_line
		return 0
	fi
	if use_docker; then
		local image
		image=$(cmd_image)
		docker rm -f "$JAEGER_NAME" >/dev/null 2>&1 || true
		docker run -d --name "$JAEGER_NAME" --label miniais.playground=jaeger \
			-e SPAN_STORAGE_TYPE=memory -e COLLECTOR_OTLP_ENABLED=true \
			-p "127.0.0.1:${P_OTLP_GRPC}:4317" -p "127.0.0.1:${P_OTLP_HTTP}:4318" \
			-p "127.0.0.1:${P_QUERY}:16686" -p "127.0.0.1:${P_QUERY_GRPC}:16685" \
			-p "127.0.0.1:${P_ADMIN}:14269" \
			-p "127.0.0.1:${JAEGER_COLLECTOR_GRPC_PORT:-14250}:14250" \
			-p "127.0.0.1:${JAEGER_COLLECTOR_HTTP_PORT:-14268}:14268" \
			-p "127.0.0.1:${JAEGER_SAMPLING_PORT:-5778}:5778" \
			-p "127.0.0.1:${JAEGER_COMPACT_PORT:-6831}:6831/udp" \
			-p "127.0.0.1:${JAEGER_BINARY_PORT:-6832}:6832/udp" \
			-p "127.0.0.1:${JAEGER_ZIPKIN_COMPACT_PORT:-5775}:5775/udp" \
			"$image" >/dev/null || die "docker run $image failed"
		echo "docker $JAEGER_NAME $image" >"$MODEFILE"
		cmd_wait || { docker logs --tail 30 "$JAEGER_NAME" >&2 || true; die "Jaeger container is not ready"; }
		echo "jaeger: docker container $JAEGER_NAME (image $image), OTLP gRPC 127.0.0.1:$P_OTLP_GRPC, UI/API http://127.0.0.1:$P_QUERY"
		return 0
	fi
	local why
	why=$(docker_why)
	[[ "$JAEGER_MODE" != "process" ]] || why="JAEGER_MODE=process"
	cmd_install
	SPAN_STORAGE_TYPE=memory spawn "$PIDFILE" "$LOGFILE" "$JAEGER_BIN" \
		--collector.otlp.enabled=true \
		--collector.otlp.grpc.host-port="127.0.0.1:$P_OTLP_GRPC" \
		--collector.otlp.http.host-port="127.0.0.1:$P_OTLP_HTTP" \
		--query.http-server.host-port="127.0.0.1:$P_QUERY" \
		--query.grpc-server.host-port="127.0.0.1:$P_QUERY_GRPC" \
		--admin.http.host-port="127.0.0.1:$P_ADMIN" \
		--collector.grpc-server.host-port="127.0.0.1:${JAEGER_COLLECTOR_GRPC_PORT:-14250}" \
		--collector.http-server.host-port="127.0.0.1:${JAEGER_COLLECTOR_HTTP_PORT:-14268}" \
		--http-server.host-port="127.0.0.1:${JAEGER_SAMPLING_PORT:-5778}" \
		--processor.jaeger-compact.server-host-port="127.0.0.1:${JAEGER_COMPACT_PORT:-6831}" \
		--processor.jaeger-binary.server-host-port="127.0.0.1:${JAEGER_BINARY_PORT:-6832}" \
		--processor.zipkin-compact.server-host-port="127.0.0.1:${JAEGER_ZIPKIN_COMPACT_PORT:-5775}"
	echo "process" >"$MODEFILE"
	cmd_wait || { tail -n 30 "$LOGFILE" >&2 || true; die "Jaeger process is not ready (log: $LOGFILE)"; }
	echo "jaeger: process pid $(<"$PIDFILE") (no docker engine: $why), OTLP gRPC 127.0.0.1:$P_OTLP_GRPC, UI/API http://127.0.0.1:$P_QUERY, log $LOGFILE"
}

cmd_wait() {
	local i pid
	for ((i = 0; i < 300; i++)); do
		[[ "$(http_status "http://127.0.0.1:$P_ADMIN/")" == "200" ]] && return 0
		if [[ -f "$PIDFILE" ]] && ! pid_alive "$PIDFILE" all-in-one >/dev/null; then
			log "the Jaeger process exited"
			return 1
		fi
		sleep 0.1
	done
	log "GET http://127.0.0.1:$P_ADMIN/ did not answer 200 within 30 s"
	return 1
}

# status_line prints what runs and answers false when nothing does.
status_line() {
	local pid
	if pid=$(pid_alive "$PIDFILE" all-in-one); then
		echo "jaeger: process pid $pid, OTLP gRPC 127.0.0.1:$P_OTLP_GRPC, UI/API http://127.0.0.1:$P_QUERY"
		return 0
	fi
	if command -v docker >/dev/null 2>&1 && container_running; then
		echo "jaeger: docker container $JAEGER_NAME (image $(docker inspect -f '{{.Config.Image}}' "$JAEGER_NAME")), OTLP gRPC 127.0.0.1:$P_OTLP_GRPC, UI/API http://127.0.0.1:$P_QUERY"
		return 0
	fi
	echo "jaeger: not running"
	return 1
}

cmd_stop() {
	stop_pid "$PIDFILE" all-in-one "jaeger process"
	if command -v docker >/dev/null 2>&1 && docker inspect "$JAEGER_NAME" >/dev/null 2>&1; then
		docker rm -f "$JAEGER_NAME" >/dev/null && log "removed container $JAEGER_NAME"
	fi
	rm -f "$MODEFILE"
}

cmd_env() {
	cmd_install
	echo "MINIAIS_JAEGER_BIN=$JAEGER_BIN"
	if docker_ok; then
		echo "MINIAIS_JAEGER_IMAGE=$(cmd_image)"
	elif is_ci; then
		die "CI=true requires a Docker engine: $(docker_why)"
	else
		log "no Docker engine ($(docker_why)): the tests run Jaeger as a process"
	fi
}

case "${1:-}" in
install) cmd_install ;;
image) cmd_image ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) status_line ;;
wait) cmd_wait ;;
env) cmd_env ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
