# The two commands a new machine needs: `make run` and `make test`.
# Each installs what it needs first and skips what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

PORT ?= 8080
HOST ?= 127.0.0.1
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SUPERNODE := target/release/supernode

.PHONY: run test build wasm supernode cargo-test wasm-check browser-test \
        tools-wasm tools-browser tools-sipp bench-sip-parse bench-ring bench-sip help

help:
	@echo "make run    build and start a super-node serving the call page on http://$(HOST):$(PORT)/"
	@echo "make test   run every test (installs what it needs)"

## ---- set-up steps (idempotent) -------------------------------------------

tools-wasm:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 4 minutes)"; \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi
	@if ! command -v wasm-opt >/dev/null; then \
	  echo "installing Debian's binaryen (wasm-opt)"; \
	  $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q binaryen; \
	fi

tools-browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi
	@if [ ! tests/node_modules/.package-lock.json -nt tests/package-lock.json ]; then \
	  (cd tests && npm ci --no-audit --no-fund); \
	fi

# sipp (Debian's sip-tester) for the interop tests and make bench-sip.
tools-sipp:
	@if ! command -v sipp >/dev/null 2>&1; then \
	  echo "installing Debian's sip-tester (sipp)"; \
	  $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester; \
	fi

## ---- build ----------------------------------------------------------------

supernode:
	$(CARGO) build --release -p supernode

# The browser peer, size-optimised, with its JS bindings into www/pkg.
# wasm-opt -Oz shrinks the module by a third. It runs before wasm-bindgen:
# Debian's binaryen 108 writes the export of wasm-bindgen's externref table
# against the wrong table (the page then fails with "Table.set(): Argument
# 1 is invalid"), and wasm-bindgen's output has two tables. The feature
# flags are the ones rustc enables by default for wasm32.
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue
WASM_OUT := target/$(WASM_TARGET)/release-wasm
wasm: tools-wasm
	$(CARGO) build -p peer-wasm --target $(WASM_TARGET) --profile release-wasm
	wasm-opt $(WASM_OPT_FLAGS) $(WASM_OUT)/peer_wasm.wasm -o $(WASM_OUT)/peer_wasm.opt.wasm
	wasm-bindgen --target web --no-typescript --out-name peer_wasm --out-dir www/pkg \
	  $(WASM_OUT)/peer_wasm.opt.wasm

build: wasm supernode

run: build
	@echo
	@echo "    Open http://$(HOST):$(PORT)/ in a browser (Ctrl-C stops the super-node)."
	@echo
	$(SUPERNODE) --http-listen $(HOST):$(PORT) --www-dir www

## ---- tests ----------------------------------------------------------------

# Release profile: the ring simulations need the speed, and the super-node
# built for the end-to-end tests then shares every compiled dependency.
cargo-test: tools-sipp
	$(CARGO) test --release --workspace

# The SIP core must stay portable to the browser.
wasm-check: tools-wasm
	$(CARGO) build -p sip --target $(WASM_TARGET)

browser-test: tools-browser build
	cd tests && npm test

test: cargo-test wasm-check browser-test

## ---- benchmarks (figures as `figure: NAME VALUE UNIT`) --------------------

bench-sip-parse:
	$(CARGO) run --release -p sip --example bench_parse

# Lookup hops (mean, p99) for N = 10 .. 10,000 in simulation, then put and
# get operations per second on a 5-process loopback ring.
bench-ring: supernode
	$(CARGO) run --release -p chord --example bench_ring_sim
	$(CARGO) run --release -p supernode --example bench_ring_ops

# sipp REGISTER/s and calls/s (highest rate with <1% failures, stepped up
# on fresh super-nodes) over UDP on loopback, one node and a 3-node ring,
# and INVITE-to-180 p50/p99; about 3 minutes.
bench-sip: tools-sipp supernode
	$(CARGO) run --release -p supernode --example bench_sip

# Browser calls through a 2-super-node ring: median over 10 calls of dial to
# ICE connected and to the first remote video frame, against a bare WebRTC
# connection between two pages (with and without trickle ICE); gzipped
# sizes of the .wasm and the JS.
bench-browser: tools-browser build
	cd tests && node browser/bench.mjs
