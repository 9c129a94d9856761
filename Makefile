# Two commands on a fresh machine:
#   make run    set up the venv, build, and reproduce the table (`repro run all`, default profile)
#   make test   set up the venv, build, and run every test
SHELL := /bin/bash
CARGO ?= cargo
PROFILE ?=

.PHONY: setup build run test test-reliability lint bench-engine

setup:
	./scripts/setup-venv.sh

build: setup
	$(CARGO) build --release --workspace --bins

run: build
	target/release/repro run all $(if $(PROFILE),--profile $(PROFILE),)

test: build
	$(CARGO) test --release --workspace

# The standing chaos suite (docs/reliability.md): 200 random SIGKILLs of `repro run` and 50 of
# `repro gc`, each followed by a resumed run that must be correct, verified and orphan-free.
test-reliability: build
	$(CARGO) test --release -p repro --test chaos -- --ignored --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# Engine benchmark: a paper-sized grid of trivial stages (see docs/benchmarks.md).
bench-engine:
	$(CARGO) bench -p repro --bench engine_grid
