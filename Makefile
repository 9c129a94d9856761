# Two commands on a fresh machine:
#   make run    set up the venv, build, and reproduce the table (`repro run all`, default profile)
#   make test   set up the venv, build, and run every test
SHELL := /bin/bash
CARGO ?= cargo
PROFILE ?=

.PHONY: setup build run test test-reliability test-slurm test-browser test-s3 lint bench-engine

setup:
	./scripts/setup-venv.sh

build: setup
	$(CARGO) build --release --workspace --bins

run: build
	target/release/repro run all $(if $(PROFILE),--profile $(PROFILE),)

# Every unit and integration test of the workspace. Doc tests are not run: the crates have
# none, and rustdoc took 35 s to find that out (docs/benchmarks.md, "Build time").
test: build
	$(CARGO) test --release --workspace --lib --bins --tests

# The standing reliability suite (docs/reliability.md): 200 random SIGKILLs of `repro run` and
# 200 of `repro gc`, each followed by a resumed run that must be correct, verified and
# orphan-free; then 10,000 fuzzed pipelines (5 properties x 2,000 cases), none over 2 s.
test-reliability: build
	$(CARGO) test --release -p repro --test chaos -- --ignored --nocapture
	PROPTEST_CASES=2000 REPRO_FUZZ_LIMIT_MS=2000 $(CARGO) test --release -p repro --test engine loader_props -- --nocapture

# The Slurm executor against a real single-node Slurm that the script starts and stops
# (needs root: it installs slurm-wlm and munge when absent); see docs/slurm.md.
test-slurm: build
	CARGO=$(CARGO) ./scripts/test-slurm.sh

# The report page in a real browser (docs/report.md): installs Debian's headless Chromium when
# absent (scripts/browser.sh, needs root), writes the smoke profile's page, and opens it offline.
test-browser: build
	target/release/repro run all --profile smoke
	CI=$${CI:-1} $(CARGO) test --release -p repro --test browser -- --include-ignored --nocapture

# The s3:// remote against a real S3-compatible server (s3s-fs from crates.io, built once into
# .tools/ by scripts/remote-s3.sh: about 20 minutes on two cores), then the smoke profile's round
# trip through it; not part of `make test` or CI for that build time (docs/cache.md).
test-s3: build
	./scripts/remote-s3.sh install
	REPRO_S3_TESTS=1 $(CARGO) test --release -p repro --test remote s3 -- --nocapture
	target/release/repro run all --profile smoke
	./scripts/ci-remote.sh --s3 -p smoke

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# Engine benchmark: a paper-sized grid of trivial stages (see docs/benchmarks.md).
bench-engine:
	$(CARGO) bench -p repro --bench engine_grid
