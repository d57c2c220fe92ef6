#!/usr/bin/env bash
# prometheus.sh: a local Prometheus (Debian's `prometheus` package) scraping every miniais node.
#
# Usage: playground/prometheus.sh start|stop|status|config
#
#   start   write the configuration and start Prometheus on $PROMETHEUS_ADDR, in the
#           background, its state under $PLAYGROUND_DIR/prometheus; waits until it is ready
#   stop    stop the Prometheus this script started (by its pid file)
#   status  say whether it runs, and how many nodes it scrapes
#   config  print the configuration it would run with
#
# The nodes come from the proxy's cluster map: Prometheus' HTTP service discovery asks the
# proxy (GET $PROXY_URL/metrics/targets) every 5 s, so a target that joins is scraped from
# then on. Every node is scraped every $PROMETHEUS_SCRAPE (2s) in OpenMetrics, and exemplars
# (the trace IDs of sampled requests on the latency histograms) are kept
# (--enable-feature=exemplar-storage).
#
# Settings (environment):
#   PLAYGROUND_DIR     /tmp/miniais
#   PROXY_URL          http://127.0.0.1:8080
#   PROMETHEUS_ADDR    127.0.0.1:9090
#   PROMETHEUS_SCRAPE  2s
#   PROMETHEUS_BIN     prometheus (from PATH)
set -euo pipefail

# shellcheck source=playground/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=prometheus

PLAYGROUND_DIR=${PLAYGROUND_DIR:-/tmp/miniais}
PROXY_URL=${PROXY_URL:-http://127.0.0.1:8080}
PROMETHEUS_ADDR=${PROMETHEUS_ADDR:-127.0.0.1:9090}
PROMETHEUS_SCRAPE=${PROMETHEUS_SCRAPE:-2s}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-prometheus}
DIR=$PLAYGROUND_DIR/prometheus

# prom_bin prints the Prometheus binary, or explains how to get it and fails.
prom_bin() {
	local bin
	if bin=$(command -v "$PROMETHEUS_BIN" 2>/dev/null); then
		echo "$bin"
		return 0
	fi
	log "Prometheus is not installed ($PROMETHEUS_BIN is not on PATH)."
	log "Install Debian's package:  sudo apt-get install prometheus   (or set PROMETHEUS_BIN)"
	return 1
}

config() {
	cat <<YAML
# Written by playground/prometheus.sh; regenerated at every start.
global:
  scrape_interval: $PROMETHEUS_SCRAPE
  scrape_timeout: $PROMETHEUS_SCRAPE
scrape_configs:
  - job_name: miniais
    metrics_path: /metrics
    http_sd_configs:
      - url: $PROXY_URL/metrics/targets
        refresh_interval: 5s
YAML
}

cmd_start() {
	local bin pid
	bin=$(prom_bin) || exit 1
	mkdir -p "$DIR/data"
	if pid=$(pid_alive "$DIR/prometheus.pid" "$(basename "$bin")"); then
		log "already running (pid $pid); restarting it with a fresh configuration"
		stop_pid "$DIR/prometheus.pid" "$(basename "$bin")" prometheus
	fi
	config >"$DIR/prometheus.yml"
	echo "--- $(date -u +%FT%TZ) start" >>"$DIR/prometheus.log"
	spawn "$DIR/prometheus.pid" "$DIR/prometheus.log" "$bin" \
		--config.file="$DIR/prometheus.yml" \
		--storage.tsdb.path="$DIR/data" \
		--storage.tsdb.retention.time=2d \
		--web.listen-address="$PROMETHEUS_ADDR" \
		--enable-feature=exemplar-storage
	if ! wait_http "http://$PROMETHEUS_ADDR/-/ready" 60; then
		tail -n 20 "$DIR/prometheus.log" >&2 || true
		die "Prometheus did not become ready on $PROMETHEUS_ADDR (log: $DIR/prometheus.log)"
	fi
	log "Prometheus on http://$PROMETHEUS_ADDR (pid $(<"$DIR/prometheus.pid")), scraping the nodes of $PROXY_URL every $PROMETHEUS_SCRAPE"
}

cmd_stop() {
	[[ -f "$DIR/prometheus.pid" ]] || return 0
	stop_pid "$DIR/prometheus.pid" "$(basename "${PROMETHEUS_BIN}")" prometheus
}

cmd_status() {
	local pid
	if pid=$(pid_alive "$DIR/prometheus.pid" "$(basename "$PROMETHEUS_BIN")"); then
		local up
		up=$(http_get "http://$PROMETHEUS_ADDR/api/v1/targets?state=active" | grep -o '"health":"up"' | wc -l | tr -d ' ')
		echo "prometheus: pid $pid on http://$PROMETHEUS_ADDR, $up node(s) up"
	else
		echo "prometheus: not running"
		return 1
	fi
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
config) config ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
