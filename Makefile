# The two commands of the README. Both install what is missing first (scripts/ensure-deps.sh).
# `make fuzz` runs the JSON parser's fuzzer for longer than the short pass of `make test`.
.PHONY: demo test faults fuzz deps build clean

## make demo: build and start the server with demo data on the embedded PostgreSQL (Ctrl-C stops it).
demo: deps
	@scripts/demo.sh

## make test: build and run every test against PostgreSQL clusters the tests start themselves.
test: deps
	@scripts/run-tests.sh

## make faults: build and run only the fault-injection suite (PostgreSQL killed and frozen, serve
## stopped and killed mid-ingest); `make test` runs it too, with everything else.
faults: deps
	@scripts/run-tests.sh FaultToleranceTests

## make fuzz: fuzz the JSON parser with libFuzzer for FUZZ_SECONDS (default 300); see scripts/fuzz-json.sh.
FUZZ_SECONDS ?= 300
fuzz:
	@scripts/fuzz-json.sh $(FUZZ_SECONDS)

deps:
	@scripts/ensure-deps.sh

build: deps
	swift build

## make clean: remove build output (the fuzzer's included) and the demo state directory.
clean:
	rm -rf .build .build-fuzz .tenantscope
