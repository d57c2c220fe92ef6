#!/usr/bin/env bash
# test.sh: the test suites behind `make test-unit`, `make test-integration` and `make test-long`.
#
# Usage: playground/test.sh unit|integration|long|fuzz|generate-check
#
#   unit            gofmt check, go vet ./... (also with -tags long and -tags notracing),
#                   go build -tags notracing ./..., the generated-code check, then
#                   go test -race -count=1 over every package outside ./tests, and again
#                   with -tags notracing over the packages with notracing-specific files
#   integration     provisions Jaeger (binary; image when a Docker engine answers) and the
#                   aisnode image, then go test -count=1 -v ./tests/... with the environment
#                   below; run `make build` first
#   long            the tests in files tagged `long` (-tags long), then every fuzzer for FUZZTIME
#   fuzz            every `func FuzzX` in the tree, one at a time, for FUZZTIME (default 30s)
#   generate-check  go generate ./... must not change any generated file
#
# The integration tests learn where things are from the environment:
#   MINIAIS_REPO           the repository root
#   MINIAIS_BIN_DIR        <repo>/bin (aisnode and ais)
#   MINIAIS_JAEGER_BIN     the Jaeger all-in-one binary (playground/jaeger.sh install)
#   MINIAIS_JAEGER_IMAGE   the Jaeger image (only when a Docker engine answers)
#   MINIAIS_AISNODE_IMAGE  the aisnode image (only when a Docker engine answers)
#   CI=true                Docker is required; a test that cannot start Jaeger or the
#                          containers fails instead of skipping
# Settings: GO_TEST_FLAGS (extra flags), UNIT_TIMEOUT (5m per package), INTEGRATION_TIMEOUT
# (30m), LONG_TIMEOUT (60m), FUZZTIME (30s).
set -euo pipefail

# shellcheck source=playground/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_PREFIX=test

ROOT=$(repo_root)
cd "$ROOT"
GO=${GO:-go}
read -r -a EXTRA <<<"${GO_TEST_FLAGS:-}"

# go_files lists the Go files of the module (not caches, not testdata).
go_files() {
	find . \( -path ./.cache -o -path ./.git -o -name testdata -o -name vendor \) -prune -o \
		-name '*.go' -type f -print
}

# generated_files lists the files that say "Code generated ... DO NOT EDIT."
generated_files() {
	go_files | xargs -r grep -lE '^// Code generated .* DO NOT EDIT\.$' | sort
}

cmd_generate_check() {
	local before after gen
	before=$(generated_files | xargs -r sha256sum)
	"$GO" generate ./...
	after=$(generated_files | xargs -r sha256sum)
	if [[ "$before" != "$after" ]]; then
		diff <(echo "$before") <(echo "$after") >&2 || true
		die "go generate ./... changed the generated files above: commit the regenerated code"
	fi
	if is_ci && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		mapfile -t gen < <(generated_files)
		if ((${#gen[@]} > 0)); then
			git diff --exit-code -- "${gen[@]}" || die "generated files differ from the commit"
			local untracked
			untracked=$(git ls-files --others --exclude-standard -- "${gen[@]}")
			[[ -z "$untracked" ]] || die "generated files are not committed: $untracked"
		fi
	fi
	log "generated code is up to date ($(generated_files | wc -l | tr -d ' ') files)"
}

# tagged_packages TAG prints the directories of the packages with a file built only with
# (or only without) build tag TAG: the packages whose tagged builds need testing too.
tagged_packages() {
	go_files | xargs -r grep -lE "^//go:build .*\b$1\b" | xargs -r -n1 dirname | sort -u
}

cmd_unit() {
	local start bad pkgs tagged
	start=$(date +%s)
	bad=$(go_files | xargs -r gofmt -l)
	[[ -z "$bad" ]] || die "gofmt needed on: $bad"
	"$GO" vet ./...
	# The files behind build tags are vetted and built too: the long tests, the notracing build.
	"$GO" vet -tags long ./...
	"$GO" vet -tags notracing ./...
	"$GO" build -tags notracing ./...
	cmd_generate_check
	mapfile -t pkgs < <("$GO" list ./... | grep -vE '^miniais/tests(/|$)')
	"$GO" test -race -count=1 -timeout "${UNIT_TIMEOUT:-5m}" "${EXTRA[@]}" "${pkgs[@]}"
	# The notracing build of the packages that have notracing-specific code (at least ./tracing).
	mapfile -t tagged < <(tagged_packages notracing)
	((${#tagged[@]} > 0)) || die "no package has notracing-specific files: tagged_packages is broken"
	"$GO" test -race -count=1 -tags notracing -timeout "${UNIT_TIMEOUT:-5m}" "${EXTRA[@]}" "${tagged[@]}"
	log "unit tests passed in $(($(date +%s) - start)) s (notracing build of: ${tagged[*]})"
}

# provision exports the MINIAIS_* variables the integration tests read.
provision() {
	export MINIAIS_REPO=$ROOT
	export MINIAIS_BIN_DIR=${MINIAIS_BIN_DIR:-$ROOT/bin}
	[[ -x "$MINIAIS_BIN_DIR/aisnode" && -x "$MINIAIS_BIN_DIR/ais" ]] ||
		die "$MINIAIS_BIN_DIR/aisnode and ais are missing: run 'make build'"
	local line
	while read -r line; do
		[[ "$line" == MINIAIS_*=* ]] && export "${line?}"
	done < <("$ROOT/playground/jaeger.sh" env)
	if docker_ok; then
		MINIAIS_AISNODE_IMAGE=$("$ROOT/playground/compose.sh" image)
		export MINIAIS_AISNODE_IMAGE
	elif is_ci; then
		die "CI=true requires a Docker engine: $(docker_why)"
	else
		log "no Docker engine ($(docker_why)): Jaeger runs as a process; the Docker tests skip"
	fi
	log "MINIAIS_BIN_DIR=$MINIAIS_BIN_DIR MINIAIS_JAEGER_BIN=${MINIAIS_JAEGER_BIN:-} MINIAIS_JAEGER_IMAGE=${MINIAIS_JAEGER_IMAGE:-} MINIAIS_AISNODE_IMAGE=${MINIAIS_AISNODE_IMAGE:-}"
}

cmd_integration() {
	local start
	provision
	start=$(date +%s)
	"$GO" test -count=1 -v -timeout "${INTEGRATION_TIMEOUT:-30m}" "${EXTRA[@]}" ./tests/...
	log "integration tests passed in $(($(date +%s) - start)) s"
}

cmd_fuzz() {
	local fuzztime=${FUZZTIME:-30s} file dir name n=0
	while read -r file; do
		dir=$(dirname "$file")
		while read -r name; do
			log "fuzzing $name in $dir for $fuzztime"
			"$GO" test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$dir"
			n=$((n + 1))
		done < <(grep -oE '^func Fuzz[A-Za-z0-9_]*\(' "$file" | sed 's/^func //; s/($//')
	done < <(go_files | grep '_test\.go$' | xargs -r grep -lE '^func Fuzz[A-Za-z0-9_]*\(' | sort)
	log "$n fuzzers ran for $fuzztime each"
}

cmd_long() {
	local start
	provision
	start=$(date +%s)
	# Only the tests of the files built with the long tag: the rest of the
	# suite already ran in test-integration.
	local names
	names=$(grep -l '^//go:build long' tests/*_test.go | xargs -r grep -ohE '^func Test[A-Za-z0-9_]+' | sed 's/^func //' | paste -sd'|')
	if [[ -n "$names" ]]; then
		"$GO" test -count=1 -v -tags long -timeout "${LONG_TIMEOUT:-60m}" "${EXTRA[@]}" -run "^(${names})\$" ./tests/
		log "long tests ($names) passed in $(($(date +%s) - start)) s"
	else
		log "no long tests"
	fi
	cmd_fuzz
}

case "${1:-}" in
unit) cmd_unit ;;
integration) cmd_integration ;;
long) cmd_long ;;
fuzz) cmd_fuzz ;;
generate-check) cmd_generate_check ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
