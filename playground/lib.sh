# shellcheck shell=bash
# Helpers shared by the playground scripts. Source it; do not run it.
#
# Everything here binds or talks to 127.0.0.1 only, and stops only processes whose
# PIDs the playground itself wrote down.

# log prints a message on stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "${LOG_PREFIX:-playground}" "$*" >&2; }

# die prints a message on stderr and exits 1.
die() { log "ERROR: $*"; exit 1; }

# is_ci answers true under CI=true (or CI=1): there, Docker and Jaeger are required.
is_ci() { [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; }

# repo_root prints the repository's top directory (the parent of playground/).
repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }

# docker_ok answers true when a Docker engine answers (and DOCKER is not set to 0).
docker_ok() {
	[[ "${DOCKER:-}" != "0" ]] || return 1
	command -v docker >/dev/null 2>&1 || return 1
	timeout 20 docker info >/dev/null 2>&1
}

# docker_why prints why docker_ok failed, for the mode message.
docker_why() {
	if [[ "${DOCKER:-}" == "0" ]]; then echo "DOCKER=0"
	elif ! command -v docker >/dev/null 2>&1; then echo "no docker command"
	else echo "docker info does not answer"; fi
}

# http_status URL prints the HTTP status code of a GET of URL ("000" when nothing answers).
http_status() {
	local url=$1
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null || true
		return 0
	fi
	local line
	line=$(_http_raw "$url" | head -n 1) || true
	line=${line#HTTP/* }
	printf '%s' "${line:0:3}"
	[[ -n "$line" ]] || printf '000'
}

# http_get URL prints the body of a GET of URL (empty when nothing answers).
http_get() {
	local url=$1
	if command -v curl >/dev/null 2>&1; then
		curl -s -m 5 "$url" 2>/dev/null || true
		return 0
	fi
	_http_raw "$url" | sed '1,/^\r\{0,1\}$/d' || true
}

# _http_raw URL does an HTTP/1.0 GET with bash's /dev/tcp (when curl is missing).
_http_raw() {
	local url=${1#http://} hostport path host port
	hostport=${url%%/*}
	path=/${url#*/}
	[[ "$url" == */* ]] || path=/
	host=${hostport%:*}
	port=${hostport##*:}
	(
		exec 3<>"/dev/tcp/$host/$port" || exit 0
		printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
		timeout 5 cat <&3
	) 2>/dev/null
}

# wait_http URL SECONDS waits until a GET of URL answers 200.
wait_http() {
	local url=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		[[ "$(http_status "$url")" == "200" ]] && return 0
		sleep 0.1
	done
	return 1
}

# pid_alive PIDFILE EXE prints the PID recorded in PIDFILE and answers true when that
# process still runs the executable whose base name is EXE (so a reused PID is never
# mistaken for ours).
pid_alive() {
	local pidfile=$1 exe=$2 pid
	[[ -f "$pidfile" ]] || return 1
	pid=$(<"$pidfile")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r "/proc/$pid/cmdline" ]]; then
		local arg0
		arg0=$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1)
		[[ "$(basename "$arg0")" == "$exe" ]] || return 1
	fi
	printf '%s' "$pid"
}

# stop_pid PIDFILE EXE NAME stops the process recorded in PIDFILE (SIGTERM, then SIGKILL
# after 10 s) and removes the pid file.
stop_pid() {
	local pidfile=$1 exe=$2 name=$3 pid i
	if pid=$(pid_alive "$pidfile" "$exe"); then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "$name (pid $pid) did not exit after SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		log "stopped $name (pid $pid)"
	fi
	rm -f "$pidfile"
}

# spawn PIDFILE LOGFILE CMD... starts CMD in the background in its own session, with
# stdout and stderr appended to LOGFILE, and writes its PID to PIDFILE.
spawn() {
	local pidfile=$1 logfile=$2
	shift 2
	# In a non-interactive shell the background job is not a process-group leader, so
	# setsid(1) calls setsid(2) in place and $! is the PID of CMD itself.
	setsid "$@" </dev/null >>"$logfile" 2>&1 &
	echo $! >"$pidfile"
}
