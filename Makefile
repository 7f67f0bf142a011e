# ksef — build/test entry points. CI runs `make test` (see .ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Official spec data (XSDs, sample invoices). CI checks the repo out with
# shared/ beside it. Override with `make SPEC=...` or the env var KSEF_SPEC.
KSEF_SPEC ?= ../shared/ksef-spec
SPEC ?= $(KSEF_SPEC)

# Where the core's tests write the XML they emit; checked by `xsd-check`.
XSD_OUT := target/xsd-out
# Where the end-to-end tests record HTTP exchanges (ksef::transport::Recorder), one JSON file
# each (subdirectories allowed); checked against the OpenAPI by `openapi-check`.
OPENAPI_OUT := target/openapi-out
OPENAPI := $(SPEC)/openapi/ksef-api-v2-openapi.json

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# `make test` runs its steps in the order listed, never in parallel.
.NOTPARALLEL:
.PHONY: header c-lib c-test php-test json-schema-check venv openapi-selftest openapi-check help test deps fmt fmt-check clippy cargo-test nostd-check xsd-samples xsd-check demo bench gen gen-check

help:
	@echo 'make test         deps, gen-check, fmt-check, clippy, cargo-test, c-test, php-test, nostd-check, xsd-check, json-schema-check, openapi-check (what CI runs)'
	@echo 'make deps         install missing tools (xmllint, xmlsec1, zbarimg, openssl, gcc, valgrind, pkg-config, rustfmt, clippy)'
	@echo 'make header       regenerate include/ksef.h and include/ksef_php.h from ffi-c'
	@echo 'make c-lib        the C ABI: target/release/libksef_ffi.{so,a} + pkgconfig/ksef.pc'
	@echo 'make c-test       the C tests and examples under valgrind, against a loopback simulator'
	@echo 'make php-test     the PHP library (ffi-c/php): PHPUnit tests + example against the simulator'
	@echo 'make fmt          cargo fmt (workspace + tests/nostd-check)'
	@echo 'make fmt-check    cargo fmt --check (workspace + tests/nostd-check)'
	@echo 'make clippy       cargo clippy --workspace --all-targets -- -D warnings'
	@echo 'make cargo-test   cargo test (default members)'
	@echo 'make nostd-check  build and run tests/nostd-check (core without std)'
	@echo 'make xsd-samples  validate the official FA(3)/FA(2) samples (xmllint sanity check)'
	@echo 'make xsd-check    xsd-samples, then validate the emitted XML in $(XSD_OUT)'
	@echo 'make demo         the main job: shop invoices built, validated, sent to the embedded KSeF simulator; paired mode (KSeF + Fakturownia) on example orders'
	@echo 'make bench        cargo bench -p ksef'
	@echo 'make json-schema-check  examples and samples (JSON form) against schema/invoice.schema.json'
	@echo 'make openapi-selftest   the OpenAPI checker on tools/testdata/openapi (good pass, bad fail)'
	@echo 'make openapi-check      openapi-selftest, then the recorded exchanges in $(OPENAPI_OUT)'
	@echo 'make gen          regenerate the model from the XSDs (tools/gen_model.py)'
	@echo 'make gen-check    fail when the generated model differs from the XSDs'
	@echo 'SPEC=$(SPEC)'

# openapi-check reads what cargo-test's end-to-end tests recorded into $(OPENAPI_OUT): it
# must come after cargo-test (the steps run in the order listed).
test: deps gen-check fmt-check clippy cargo-test c-test php-test nostd-check xsd-check json-schema-check openapi-check

deps:
	command -v xmllint >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y libxml2-utils)
	command -v xmlsec1 >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y xmlsec1)
	command -v zbarimg >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y zbar-tools)
	command -v gcc >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y gcc libc6-dev)
	command -v valgrind >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind)
	command -v pkg-config >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y pkg-config)
	command -v openssl >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y openssl)
	cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

# The invoice model and codecs are generated from the official XSDs.
GENERATED := core/src/model/generated.rs core/src/model/codec.rs schema/invoice.schema.json

gen:
	python3 tools/gen_model.py '$(SPEC)'
	rustfmt --edition 2021 core/src/model/generated.rs core/src/model/codec.rs

gen-check:
	rm -rf target/gen-check && mkdir -p target/gen-check
	python3 tools/gen_model.py '$(SPEC)' --out target/gen-check
	rustfmt --edition 2021 --config-path rustfmt.toml target/gen-check/core/src/model/generated.rs target/gen-check/core/src/model/codec.rs
	for f in $(GENERATED); do diff -q "$$f" "target/gen-check/$$f" || { echo "$$f is out of date: run make gen"; exit 1; }; done

fmt:
	cargo fmt --all
	cargo fmt --manifest-path tests/nostd-check/Cargo.toml

fmt-check:
	cargo fmt --all -- --check
	cargo fmt --manifest-path tests/nostd-check/Cargo.toml -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# Stale emitted XML or recorded traffic must not let xsd-check or openapi-check pass, so
# start from an empty $(XSD_OUT) and $(OPENAPI_OUT).
cargo-test:
	rm -rf $(XSD_OUT) $(OPENAPI_OUT)
	cargo test

# include/ksef.h and include/ksef_php.h from the code (cbindgen + the shared error table);
# `cargo test -p ksef-ffi --test header` (part of cargo-test) fails when they drift.
header:
	KSEF_BLESS=1 cargo test -q -p ksef-ffi --test header

# The C ABI as shared and static library with a pkg-config file (target/release/pkgconfig).
c-lib:
	cargo build --release -q -p ksef-ffi
	mkdir -p target/release/pkgconfig
	sed -e 's|@PREFIX@|$(CURDIR)|' -e 's|@VERSION@|$(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)|' ffi-c/ksef.pc.in > target/release/pkgconfig/ksef.pc

# The C tests and examples (-std=c11 -Wall -Wextra -Werror, against the committed header)
# under valgrind, with a loopback simulator.
c-test:
	KSEF_SPEC='$(SPEC)' ffi-c/tests/c/run.sh

# The PHP library over FFI (ffi-c/php): PHPUnit tests and the documented example script
# against a loopback simulator (PHP, PHPUnit and php-cgi — for the FFI preloading checks — from
# Debian's packages, installed when missing).
php-test:
	command -v php >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y php-cli)
	command -v phpunit >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y phpunit)
	command -v php-cgi >/dev/null || ($(SUDO) apt-get update && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y php-cgi)
	KSEF_SPEC='$(SPEC)' ffi-c/php/run.sh

# A no_std + no_main binary linking the core with default features off: it fails
# to build if std leaks into the core, and exits non-zero if a check fails.
nostd-check:
	cd tests/nostd-check && cargo run --release

xsd-samples:
	KSEF_SPEC='$(SPEC)' tests/xsd-check.sh '$(SPEC)/samples/fa3' '$(SPEC)/samples/fa2'

# Fails if $(XSD_OUT) is missing or empty: an empty check is not a pass.
xsd-check: xsd-samples
	KSEF_SPEC='$(SPEC)' tests/xsd-check.sh $(XSD_OUT)

KSEF := target/release/ksef
VENV := .venv

# The committed JSON Schema accepts the documented examples and every official sample in
# its JSON form (checked with Python's jsonschema, installed into a local venv).
venv:
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/python -c 'import jsonschema' 2>/dev/null || $(VENV)/bin/pip install -q jsonschema

json-schema-check: venv
	cargo build -q -p ksef-cli
	rm -rf target/json-check && mkdir -p target/json-check
	for f in '$(SPEC)'/samples/fa3/*.xml '$(SPEC)'/samples/fa2/*.xml; do \
	  target/debug/ksef parse "$$f" > "target/json-check/$$(basename "$$f" .xml).json"; done
	$(VENV)/bin/python tools/check_json_schema.py examples/json/*.json target/json-check/*.json

# The OpenAPI conformance checker on hand-made exchanges (built from the spec's examples):
# every good one passes, every bad one fails with the violation it names in "_expect".
openapi-selftest: venv
	$(VENV)/bin/python tools/check_openapi.py --self-test '$(OPENAPI)' tools/testdata/openapi

# Every request our client sent and every response the simulator returned in the end-to-end
# tests (recorded into $(OPENAPI_OUT) by `cargo-test`) against the OpenAPI schemas. Fails when
# the directory is missing or empty: an empty check proves nothing.
openapi-check: openapi-selftest
	$(VENV)/bin/python tools/check_openapi.py '$(OPENAPI)' $(OPENAPI_OUT)

# The main job, on the KSeF simulator embedded in the binary (loopback, no network): build
# typical shop invoices, send them in an online session with a KSeF token and a small batch
# session (KSeF numbers printed, UPOs saved to target/demo/upo), download one back and compare,
# test the connection; paired mode on the example orders (KSeF number, Fakturownia document
# carrying it, XML/UPO/PDF in target/demo/paired); then check every invoice file with the CLI and against the official
# XSDs, and round-trip an official sample through the JSON form.
demo: deps
	cargo build -q --release -p ksef-cli
	rm -rf target/demo
	$(KSEF) demo target/demo
	@echo
	@for f in target/demo/*.xml; do $(KSEF) validate "$$f" 2>&1 | grep -v '^warning' || exit 1; done
	KSEF_SPEC='$(SPEC)' tests/xsd-check.sh target/demo/*.xml
	@for f in target/demo/paired/FV_*[0-9].xml; do $(KSEF) validate "$$f" 2>&1 | grep -v '^warning' || exit 1; done
	KSEF_SPEC='$(SPEC)' tests/xsd-check.sh target/demo/paired/FV_*[0-9].xml
	$(KSEF) audit show --state target/demo/paired/state.json | head -3
	@echo
	@echo '# an official FA(3) sample -> JSON -> FA(3) XML -> validate'
	$(KSEF) parse '$(SPEC)/samples/fa3/FA_3_Przyklad_01.xml' | $(KSEF) render - | $(KSEF) validate -

bench:
	cargo bench -p ksef
