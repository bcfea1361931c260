# The two commands of the README. Both install what is missing first (scripts/ensure-deps.sh).
.PHONY: demo test deps build clean

## make demo: build and start the server with demo data on the embedded PostgreSQL (Ctrl-C stops it).
demo: deps
	@scripts/demo.sh

## make test: build and run every test against PostgreSQL clusters the tests start themselves.
test: deps
	@scripts/run-tests.sh

deps:
	@scripts/ensure-deps.sh

build: deps
	swift build

## make clean: remove build output and the demo state directory.
clean:
	rm -rf .build .tenantscope
