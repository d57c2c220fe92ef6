# miniais: build, test and a local playground. `make help` lists the targets.
# The work is done by the scripts in playground/; the targets here stay thin.

SHELL := /bin/bash
.DEFAULT_GOAL := help
GO ?= go
export GO

# Playground settings (see playground/deploy.sh): make deploy TARGETS=5 MOUNTPATHS=3 JAEGER=1 PROMETHEUS=1
TARGETS ?= 3
MOUNTPATHS ?= 2
PLAYGROUND_DIR ?= /tmp/miniais
export TARGETS MOUNTPATHS PLAYGROUND_DIR
ifdef JAEGER
export JAEGER
endif
ifdef PROMETHEUS
export PROMETHEUS
endif

.PHONY: help build generate test test-unit test-integration test-long fuzz \
	deploy kill clean status jaeger jaeger-install images compose-up compose-down bench

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/aisnode and bin/ais (static, CGO_ENABLED=0)
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

generate: ## Regenerate code (go generate ./...)
	$(GO) generate ./...

test: test-unit test-integration ## Run all tests: unit, then integration (what CI runs)

test-unit: ## gofmt, go vet, generated-code check, go test -race on every package outside tests/
	playground/test.sh unit

test-integration: build ## Build, provision Jaeger (+ images with Docker), go test -v ./tests/...
	playground/test.sh integration

test-long: build ## The tests in files tagged long (crash rounds, slow peers), then every fuzzer for FUZZTIME (30s)
	playground/test.sh long

fuzz: ## Run every fuzzer in the tree for FUZZTIME (default 30s) each
	playground/test.sh fuzz

deploy: build ## Start the local cluster (TARGETS=3 MOUNTPATHS=2; JAEGER=1 for tracing; PROMETHEUS=1 for Prometheus on :9090)
	playground/deploy.sh deploy

kill: ## Stop what the playground started (nodes and Prometheus by pid file, Jaeger by name)
	playground/deploy.sh kill

clean: ## Stop the playground and remove its state (PLAYGROUND_DIR)
	playground/deploy.sh clean

status: ## Show what the playground runs
	playground/deploy.sh status

jaeger: ## Start Jaeger alone (a container with Docker, else a process); stop it with make kill
	playground/deploy.sh jaeger

jaeger-install: ## Build the Jaeger binary into ~/.cache/miniais (go install, about a minute)
	playground/jaeger.sh install

images: ## Build the Docker images: miniais/aisnode:dev, and Jaeger if it cannot be pulled
	playground/compose.sh image
	playground/jaeger.sh image

compose-up: ## Run proxy, 3 targets and Jaeger in containers (playground/compose.yaml)
	playground/compose.sh up

compose-down: ## Stop and remove the compose cluster, its network and volumes
	playground/compose.sh down

bench: ## Node CPU per operation and throughput, medians of 3 interleaved repeats: reference, via proxy (issue-16 goals), direct, durable; 4-6 min
	bench/bench.sh
