#!/usr/bin/env bash
# compose.sh: the aisnode image and the containerized cluster of playground/compose.yaml.
#
# Usage: playground/compose.sh image|up|down|ps|logs
#
#   image  build the aisnode image FROM scratch with static binaries built here
#          (CGO_ENABLED=0); prints the image name
#   up     build the images (aisnode; Jaeger via jaeger.sh image), start proxy, 3 targets
#          and Jaeger on their own network, wait until the proxy sees 3 targets
#   down   stop and remove the containers, the network and the volumes
#   ps     list the containers; logs: print their logs
#
# Settings (environment):
#   MINIAIS_AISNODE_IMAGE     miniais/aisnode:dev
#   MINIAIS_IMAGE_BIN_DIR     take aisnode and ais from this directory instead of building
#   COMPOSE_PROJECT           miniais (container names: miniais_proxy_1, ... with docker-compose,
#                             miniais-proxy-1, ... with the docker compose plugin)
# Compose: the docker-compose binary when installed, else the `docker compose` plugin.
#   MINIAIS_COMPOSE_PROXY_PORT 18080, MINIAIS_COMPOSE_TARGET{1,2,3}_PORT 18081..18083,
#   MINIAIS_COMPOSE_JAEGER_PORT 26686 (host ports on 127.0.0.1; empty = a free port)
#   AIS_CLUSTER_SECRET        default: generated once into <repo>/.cache/compose.secret
set -euo pipefail

# shellcheck source=playground/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=compose

ROOT=$(repo_root)
GO=${GO:-go}
export MINIAIS_AISNODE_IMAGE=${MINIAIS_AISNODE_IMAGE:-miniais/aisnode:dev}
COMPOSE_PROJECT=${COMPOSE_PROJECT:-miniais}

# compose_cmd sets COMPOSE_CMD to the Compose command: the docker-compose binary when it is
# installed (.ci/run installs it), else the `docker compose` plugin when it answers. The
# harness (tests/harness ComposeCommand) picks the same way.
COMPOSE_CMD=()
compose_cmd() {
	((${#COMPOSE_CMD[@]} == 0)) || return 0
	if command -v docker-compose >/dev/null 2>&1; then
		COMPOSE_CMD=(docker-compose)
	elif command -v docker >/dev/null 2>&1 && timeout 20 docker compose version >/dev/null 2>&1; then
		COMPOSE_CMD=(docker compose)
	else
		die "neither docker-compose nor the docker compose plugin is installed"
	fi
}

compose() {
	compose_cmd
	secret
	"${COMPOSE_CMD[@]}" -p "$COMPOSE_PROJECT" -f "$ROOT/playground/compose.yaml" "$@"
}

# container SERVICE prints the name of SERVICE's container (docker-compose names it
# PROJECT_SERVICE_1, the plugin PROJECT-SERVICE-1).
container() {
	local id
	id=$(compose ps -q "$1" | head -n 1)
	[[ -n "$id" ]] || { echo "${COMPOSE_PROJECT}_$1_1"; return 0; }
	docker inspect -f '{{.Name}}' "$id" | sed 's|^/||'
}

cmd_image() {
	docker_ok || die "no Docker engine: $(docker_why)"
	local ctx=$ROOT/.cache/image-aisnode start
	start=$(date +%s)
	rm -rf "$ctx"
	mkdir -p "$ctx/tmp"
	chmod 1777 "$ctx/tmp"
	if [[ -n "${MINIAIS_IMAGE_BIN_DIR:-}" ]]; then
		cp "$MINIAIS_IMAGE_BIN_DIR/aisnode" "$MINIAIS_IMAGE_BIN_DIR/ais" "$ctx/"
	else
		(cd "$ROOT" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$ctx/" ./cmd/aisnode ./cmd/ais) ||
			die "go build of the image's binaries failed"
	fi
	cp "$ROOT/playground/Dockerfile" "$ctx/Dockerfile"
	local old new
	old=$(docker image inspect -f '{{.Id}}' "$MINIAIS_AISNODE_IMAGE" 2>/dev/null) || old=""
	DOCKER_BUILDKIT=0 docker build -q --label miniais.playground=aisnode \
		-t "$MINIAIS_AISNODE_IMAGE" "$ctx" >/dev/null 2>"$ctx/build.err" ||
		{ cat "$ctx/build.err" >&2; die "docker build of $MINIAIS_AISNODE_IMAGE failed"; }
	new=$(docker image inspect -f '{{.Id}}' "$MINIAIS_AISNODE_IMAGE")
	# Drop the image this build replaced (unless a container still uses it).
	[[ -z "$old" || "$old" == "$new" ]] || docker rmi "$old" >/dev/null 2>&1 || true
	log "built image $MINIAIS_AISNODE_IMAGE in $(($(date +%s) - start)) s"
	echo "$MINIAIS_AISNODE_IMAGE"
}

# secret exports AIS_CLUSTER_SECRET, generating it once.
secret() {
	[[ -z "${AIS_CLUSTER_SECRET:-}" ]] || return 0
	local f=$ROOT/.cache/compose.secret
	mkdir -p "$ROOT/.cache"
	[[ -s "$f" ]] || (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$f")
	AIS_CLUSTER_SECRET=$(<"$f")
	export AIS_CLUSTER_SECRET
}

cmd_up() {
	local start port i n=0
	start=$(date +%s)
	JAEGER_IMAGE=$("$ROOT/playground/jaeger.sh" image)
	export JAEGER_IMAGE
	cmd_image >/dev/null
	compose up -d --no-build
	port=$(compose port proxy 8080 2>/dev/null | sed 's/.*://') || true
	if [[ -z "$port" ]]; then
		compose ps >&2 || true
		compose logs --tail=20 >&2 || true
		die "the proxy container does not run"
	fi
	for ((i = 0; i < 600; i++)); do
		if [[ "$(http_status "http://127.0.0.1:$port/v1/health")" == "200" ]]; then
			n=$(http_get "http://127.0.0.1:$port/v1/daemon?what=smap" |
				grep -oE '"daemon_type"[[:space:]]*:[[:space:]]*"target"' | wc -l | tr -d ' ')
			[[ "$n" -ge 3 ]] && break
		fi
		sleep 0.1
	done
	if [[ "$n" -lt 3 ]]; then
		compose ps >&2 || true
		compose logs --tail=20 >&2 || true
		die "the compose cluster is not healthy after 60 s ($n of 3 targets joined)"
	fi
	cat <<EOF
compose cluster up in $(($(date +%s) - start)) s: proxy http://127.0.0.1:$port (containers: $(compose ps -q | wc -l | tr -d ' '), project $COMPOSE_PROJECT)
  Jaeger API: http://127.0.0.1:$(compose port jaeger 16686 | sed 's/.*://')/api/services
  Inside the network: docker exec $(container proxy) ais ... (AIS_ENDPOINT=http://proxy:8080)
  Stop: make compose-down
EOF
}

case "${1:-}" in
image) cmd_image ;;
up) cmd_up ;;
down) compose down -v --remove-orphans ;;
ps) compose ps ;;
logs) compose logs ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
