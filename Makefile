# onnxrun — the commands a developer and CI use. `make test` is what .ci/run runs.
GO ?= go
SHARED ?= $(abspath ../shared)
export ONNXRUN_SHARED := $(SHARED)

.PHONY: all build test test-short docs lint vet race noasm proto check-generate conformance expected-pass bench fuzz data clean

all: build test

build:
	$(GO) build ./...

# The whole suite: formatting, vet, unit tests, the ONNX node tests and reference models (from ../shared),
# the pure-Go (noasm) kernels, and the race detector over the runtime.
test: lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags noasm ./ops/...
	$(GO) test -count=1 -race ./runtime/...

# Unit tests only, no ../shared needed.
test-short:
	$(GO) test -short ./...

lint: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race ./runtime/... ./conformance/...

noasm:
	$(GO) test -tags noasm ./ops/...

# Regenerate onnx/onnxpb from the project's schema (needs protoc: apt-get install protobuf-compiler).
proto:
	$(GO) generate ./onnx/...

check-generate: proto
	git diff --exit-code -- onnx/onnxpb

# Runs every ONNX node test and reference model and writes CONFORMANCE.md.
conformance:
	$(GO) run ./cmd/onnxrun conformance --markdown CONFORMANCE.md $(SHARED)/onnx-node-tests

# Rewrites conformance/expected_pass.txt with the node tests that pass now.
expected-pass:
	$(GO) run ./cmd/onnxrun conformance --write-expected conformance/expected_pass.txt $(SHARED)/onnx-node-tests

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./ops/... ./runtime/...

FUZZTIME ?= 2m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./onnx/
	$(GO) test -run '^$$' -fuzz FuzzReadNPY -fuzztime $(FUZZTIME) ./tensorio/

# Regenerates OPERATORS.md from the kernel registry (a test checks it is current).
docs:
	$(GO) run ./internal/opsdoc > OPERATORS.md.tmp && mv OPERATORS.md.tmp OPERATORS.md

clean:
	$(GO) clean -testcache
