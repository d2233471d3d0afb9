# onnxrun in a container: a static, cgo-free binary on a distroless base, serving the models mounted at
# /mnt/models over the Open Inference Protocol on port 8080 (KServe's layout: see docs/kserve.md).
#
#   docker build -t onnxrun:dev .
#   docker run --rm -p 8080:8080 -v "$PWD/models/lenet:/mnt/models:ro" onnxrun:dev
#
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/onnxrun:TAG --push .
# The build stage runs on the build machine's platform and cross-compiles (pure Go needs no emulation).
#
# Keep the build context small with a .dockerignore listing .git, .cache, data, node_modules, *.test.

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# CGO_ENABLED=0: a static binary with no libc to match; -trimpath and -s -w: reproducible and small.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/onnxrun ./cmd/onnxrun

# static-debian12 holds CA certificates, tzdata and a nonroot user, and nothing to run but our binary.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/onnxrun /onnxrun
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/onnxrun"]
CMD ["serve", "--model-dir", "/mnt/models", "--http-port", "8080"]
