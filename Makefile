# Vitrina. `make run` and `make test` work on a fresh Debian machine with only the Swift toolchain present.
SWIFT ?= swift
PORT ?= 8080
HOST ?= 127.0.0.1
MANIFEST ?= tenants.example.yml
# The demo accounts' password (tenants.example.yml reads it from VITRINA_DEMO_PASSWORD).
DEMO_PASSWORD ?= $(or $(VITRINA_DEMO_PASSWORD),demo-pass-2026)

.PHONY: run test test-unit contract fuzz deps build release bench lint format screenshots e2e eval-llm clean

## Install the missing system packages, build, start the server on the embedded PostgreSQL with the demo tenants.
run: deps
	@scripts/install-deps.sh --only python3-venv
	$(SWIFT) build --product vitrina
	VITRINA_DEMO_PASSWORD="$(DEMO_PASSWORD)" VITRINA_LLM_PRIVATE_HOSTS=$(or $(VITRINA_LLM_PRIVATE_HOSTS),allow) .build/debug/vitrina serve --host $(HOST) --port $(PORT) --load $(MANIFEST) --print-urls --demo-storefronts --demo-channels

# `make test FILTER=Jobs` (or any regular expression of suite and test names) runs only what matches.
FILTER_ARGS = $(if $(FILTER),--filter '$(FILTER)')
# A test run that has not finished after this many seconds is stopped, naming the tests that never finished.
TEST_TIMEOUT ?= 1200
# The contract run (scripts/api-contract.py) on a throwaway PostgreSQL of its own.
CONTRACT = VITRINA_TEST_EMBEDDINGS=off scripts/with-test-postgres.sh scripts/api-contract.py

## Install the missing system packages, start a throwaway PostgreSQL, run every test.
test: deps
	@scripts/install-deps.sh dnsmasq python3-venv php
	$(SWIFT) build --build-tests
	scripts/with-test-postgres.sh scripts/watchdog.sh $(TEST_TIMEOUT) $(SWIFT) test --skip-build $(FILTER_ARGS)
	$(if $(FILTER),,$(CONTRACT))

## The API's contract alone: schemathesis against a server of its own, with a partner key and a shop key (docs/API.md).
contract: deps
	@scripts/install-deps.sh python3-venv
	$(SWIFT) build --product vitrina
	$(CONTRACT)

## The long fuzz (docs/API.md): schemathesis with many examples per operation and ten minutes of fuzzing and stateful
## testing per key, then the messenger webhooks with FUZZ_ROUNDS malformed, oversized and wrongly signed bodies each.
FUZZ_ROUNDS ?= 2000
fuzz: deps
	@scripts/install-deps.sh dnsmasq python3-venv
	$(SWIFT) build --build-tests
	$(CONTRACT) --long
	VITRINA_FUZZ_ROUNDS=$(FUZZ_ROUNDS) VITRINA_TEST_EMBEDDINGS=off scripts/with-test-postgres.sh $(SWIFT) test --skip-build --filter WebhookFuzzTests

## The tests that need no database (parsers, page models, the permission matrix, ...): seconds, no PostgreSQL.
test-unit: deps
	$(SWIFT) build --build-tests
	VITRINA_TEST_LANE=unit $(SWIFT) test --skip-build $(FILTER_ARGS)

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product vitrina

## W1, W2 (shared/bench/WORKLOAD.md), W3a (bot messages), W3b (event streams) and W3c (Telegram webhook → reply;
## BENCH_ARGS=--only-w3c for it alone) against a freshly started release server; prints the figures.
bench: deps
	@scripts/install-deps.sh wrk
	$(SWIFT) build -c release --product vitrina
	$(SWIFT) build -c release --product VitrinaBench
	.build/release/VitrinaBench --vitrina .build/release/vitrina $(BENCH_ARGS)

## The bots' held-out question sets with the language model off and on, against a local llama-server with
## SmolLM2-135M-Instruct (docs/LLM.md); the first run builds llama.cpp (minutes on 2 cores, cached). Not in `make test`.
eval-llm: deps
	@scripts/install-deps.sh python3-venv g++ make
	$(SWIFT) build --product vitrina
	scripts/eval-llm.sh $(EVAL_DIR)

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks

format:
	$(SWIFT) format --in-place --recursive Sources Tests Benchmarks

## Desktop and phone screenshots of the demo's public pages, signed-in admin panels, the chat widget and the inbox (needs `make run` in another terminal, on port 8080 for the widget).
screenshots:
	@scripts/install-deps.sh chromium
	VITRINA_DEMO_PASSWORD="$(DEMO_PASSWORD)" scripts/screenshots.sh $(PORT) screenshots
	VITRINA_DEMO_PASSWORD="$(DEMO_PASSWORD)" scripts/widget-e2e.py screenshots/widget --running

## The chat widget and the inbox end to end in headless Chromium, on a server of its own (port 8080 must be free; builds nothing: needs .build/debug/vitrina).
e2e:
	@scripts/install-deps.sh chromium
	VITRINA_DEMO_PASSWORD="$(DEMO_PASSWORD)" scripts/widget-e2e.py screenshots/widget

clean:
	rm -rf .build
