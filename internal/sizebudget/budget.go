package sizebudget

// cliBudgetBytes caps the size of the onnxrun command built as a release would build it:
//
//	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o onnxrun ./cmd/onnxrun
//
// History (each raise names its issue, the size it measured and why the bytes are worth it):
//   - issue 12: 16 MB. gonum.org/v1/plot (with its fonts, LaTeX, PDF and SVG modules) left the module for
//     the training curves drawn with the standard library: 21,328,034 bytes before, 14,823,586 after
//     (linux/amd64, Go 1.26). The budget leaves about 1.2 MB of room for ordinary growth.
//   - issue 14: +1,040,384 bytes. 15,040,674 bytes at c98c546, 16,081,058 after: control flow (If, Loop,
//     Scan, SequenceMap), sequences, optionals and maps, the ai.onnx.ml kernels scikit-learn exports use,
//     TfIdfVectorizer, Bernoulli, FlexAttention and ImageDecoder (BMP, TIFF and WebP from golang.org/x/image):
//     operators that real models (voice-activity detectors, detectors, scikit-learn pipelines) need to load
//     at all.
//   - issue 15: +1,118,208 bytes. 16,085,154 bytes at 6f13cd4, 17,203,362 after: the vectorised kernels
//     (vecmath's exp/log/sigmoid/tanh/erf/GELU/softmax and vecarith's binary ops, each in AVX-512, AVX2 and
//     pure Go), the AVX-512 SGEMM, depthwise convolution, and the fusions (FusedElementwise, SqueezeExcite,
//     FusedAttention, LayerNorm, the conv epilogue activations) that make MobileNet, EfficientNet, YOLO and
//     transformer models run at ONNX Runtime's speed instead of several times slower.
//   - issues 15-17: +1,462,272 bytes. 17,293,474 bytes at e193d64; 23,257,250 with everything of this
//     entry and the two issue-18 entries below, which measured 4,501,504 of it on their own: the integer GEMM
//     (AVX-512 VNNI, AVX2 and pure Go) and vectorised quantize/dequantize spans, QLinearConv and the com.microsoft
//     quantized operators ORT's quantizers write (QGemm, QLinearAdd..., MatMulNBits), the QDQ passes and
//     `onnxrun quantize` (issue 16: int8 models are how people deploy on CPUs); the channel-interleaved
//     depthwise kernels (issue 15); the trainer's checkpoints, validation split, image-folder/.npz data,
//     residual graphs and ONNX import for fine-tuning (issue 17).
//   - issue 18 (binary tensors over HTTP): +36,864 bytes. 18,178,210 bytes at 10b3984, 18,215,074 after:
//     the Open Inference Protocol's binary tensor data extension in serve (raw little-endian tensors after
//     the JSON, both ways, in the server and the Go client), which sends an image in a third of the bytes
//     of JSON and parses it without a decimal conversion per element.
//   - issue 18: +4,464,640 bytes. 18,178,210 bytes at 10b3984, 22,642,850 after: google.golang.org/grpc
//     (with golang.org/x/net's HTTP/2 and the google.rpc status types) for `serve --grpc-port`, KServe's v2
//     gRPC API and the grpc.health.v1 service that Kubernetes' gRPC probes and grpc-health-probe speak: the
//     protocol KServe, Triton and their clients use in production, and the one that carries raw tensors.
//     (Measured on 10b3984 alone, before the binary extension above.)
//   - issue 20 (run memory, the Go runtime's share): +12,288 bytes. 23,257,250 bytes at 82cdb32, 23,269,538
//     after: the per-model memory gauges of serve's /metrics (weights, the sessions' arena and scratch),
//     `serve --memory-limit` with its size parser: what an operator needs to size a container and keep the
//     Go heap inside it.
//   - issue 18 (the try-it page): +53,248 bytes (23,257,250 bytes at 82cdb32, 23,310,498 after, measured alone): the page
//     `onnxrun serve` shows at / (17 KB of HTML, CSS and script embedded with embed.FS, and its handlers), so
//     that a served model can be tried from any browser, drawing a digit or dropping an image, with nothing
//     else to install or host.
//   - issue 18 (model repository): +73,728 bytes. 23,257,250 bytes at 82cdb32, 23,330,978 after: the
//     model registry that reloads models while requests run, the watched --model-dir with NAME.json
//     settings, and the repository extension's index, load and unload endpoints: updating a model without
//     restarting the server and dropping its requests. (Measured alone on 82cdb32; 23,380,130 bytes once
//     merged with main at c93acd1.)
//   - issue 18 (overload): +16,384 bytes. 23,257,250 bytes at 82cdb32, 23,273,634 after: the bounded
//     queue per model with 503 + Retry-After (gRPC RESOURCE_EXHAUSTED), its gauges, client deadlines
//     (Request-Timeout, Triton's timeout parameter) and `serve --queue-size`: what keeps a server that is
//     offered more than it can serve answering those it admits, with flat memory. (With the repository,
//     the try-it page and the memory gauges merged: 23,429,282 bytes.)
//   - issue 19 (TLS and bounded connections): +57,344 bytes. 23,257,250 bytes at 82cdb32, 23,314,594 after:
//     TLS and mutual TLS for HTTP and gRPC with certificates reloaded when the files change, the plain-text
//     health port (HTTP and h2c grpc.health.v1) and gRPC keepalive enforcement: what lets the server sit on a
//     network beside the kubelet's probes (crypto/tls itself was linked already, through net/http).
//   - issue 20 (memory-mapped models): +36,864 bytes. 23,257,250 bytes at 82cdb32, 23,294,114 after: the
//     model file mapped read-only (internal/mmap over golang.org/x/sys/unix, already linked for gRPC), the
//     decoder's walk that leaves weights in the mapped pages, and the plan's and sessions' reference counts
//     and Close, so that a served model's weights are shared with the page cache and with every process
//     serving the same file instead of each holding a heap copy.
//     (Everything above merged, at the merge of m-mmap: 23,519,394 bytes.)
//   - issue 19 (the guarded control plane) with issue 16's integer depthwise path: +49,152 bytes. 23,519,394
//     bytes at the merge of m-mmap, 23,568,546 after (merged): the bearer-token check over HTTP and gRPC with
//     its file reloader, model-name and symlink confinement, and the interleaved int8 depthwise kernel
//     (MobileNetV2 int8 about twice as fast): what lets a repository be opened to a network safely.
//   - issues 15 and 20 (k20-detect, m-drop): +40,960 bytes. 23,568,546 bytes before, 23,609,506 after
//     (merged): dilated depthwise on the fast kernels and the per-tap GEMM for DeepLabV3's dilated convs
//     (about 2x faster there), and dropping plain weights once packed with its typed errors (BERT-base's
//     weights held once instead of twice).
//   - issue 17 (fine-tuning residual CNNs, checkpoints of fine-tunes): +4,096 bytes. 23,568,546 bytes at
//     6d42c57, 23,572,642 after: `train --from` imports residual Adds and BatchNorm on batch statistics, and
//     checkpoints and resumes a fine-tune with its source model's SHA-256 checked, so that a crash does not
//     lose a fine-tune and a torchvision-style ResNet can be fine-tuned at all.
//   - issue 16 (8-bit MaxPool on bytes, subsampled 1x1 stride-2 convs): +28,672 bytes. 23,613,602 bytes before,
//     23,642,274 after (merged): byte-max pooling with its AVX2 routines and the strided shortcut strategy, which
//     halve static QDQ ResNet-50 int8's time.
//   - the merged state of 2026-12-07 evening (the protobench tool off exporter, Identity folding aliases):
//     23,646,370 bytes. The budget keeps one page (4,096 bytes) above the size rounded up to a page: the
//     linker pads sections to pages, so a change of a few bytes can move the size by a page (CI's fresh-clone
//     build came out 162 bytes over a budget set at the measured size rounded up).
//   - the round of 2026-12-07 late evening (issues 15, 16, 17, 18, 20 merged together): +81,920 bytes.
//     23,646,370 bytes at ea4c294, 23,728,290 after: the implicit-GEMM strided convolution (6-31% faster on
//     strided layers), two-vector AVX-512 loops for exp/sigmoid/tanh/erf/GELU/softmax, the 8x32 VNNI
//     integer tile, the depthwise pack-into-block kernels, `bench --threads-report`, and serve's
//     queue-delay admission (503 when the expected wait passes a budget, issue 18's overload target).
//   - issues 18 and 19 (a model folder's files opened through an os.Root, --model-name with --model-dir
//     watched, onnx.DecodeOptions.LoadFile): +12,288 bytes. 23,728,290 bytes before, 23,740,578 after:
//     a symlink swapped into the model folder after the check can no longer be read.
//
// To raise it: build as above on linux/amd64 before and after the change, raise the constant by what the
// change measured (not by a round margin), and add a line above giving the issue, both sizes and the
// reason: what the dependency or feature does that is worth its bytes to every user of the binary.
const cliBudgetBytes = 23_748_608
