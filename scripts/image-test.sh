#!/usr/bin/env bash
# The container image end to end (make image-test, run by .ci/run): builds it with `make image`, serves the
# shipped LeNet from it, waits for /v2/health/ready, classifies models/lenet/digit_7.npy through it and stops
# it with SIGTERM, which must end it cleanly (status 0, "stopped" in its log).
#
# The container runs with podman run when this machine allows it; in sandboxes where crun may not set its
# rlimits, podman run fails before the server starts, and buildah run --isolation chroot runs it instead
# (no new namespaces, so it shares the host network and the host sees its processes). Both share the
# host's network here (--network host), so the server listens on a free port it picks itself (port 0) and
# the script reads the address from its log.
#
# Exit status: 0 when the request was answered right, or when neither podman run nor buildah run can run a
# container at all here (a line says why: the image was still built and checked); 1 otherwise, including
# when the image cannot be built.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/onnxrun:latest}
GO=${GO:-go}
IMAGE_CONTEXT=${IMAGE_CONTEXT:-build/image}
READY_TIMEOUT=${READY_TIMEOUT:-60} # seconds: the first start compiles LeNet, a few ms on a quiet machine

fail() { echo "image-test: $*" >&2; exit 1; }
for tool in curl jq; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install $tool)"
done

make --no-print-directory image IMAGE="$IMAGE" IMAGE_CONTEXT="$IMAGE_CONTEXT" GO="$GO"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image-test: $IMAGE is $size bytes"
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
case "$user" in
  "" | 0 | 0:* | root | root:*) fail "$IMAGE runs as root (USER '$user'): deploy/Containerfile must set a non-root USER" ;;
esac

work=$(mktemp -d)
log="$work/server.log"
container="onnxrun-image-test-$$"
buildah_ctr=""
runner_pid=""
cleanup() {
  if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then kill -KILL "$runner_pid" 2>/dev/null || true; fi
  podman rm -f "$container" >/dev/null 2>&1 || true
  if [ -n "$buildah_ctr" ]; then buildah rm "$buildah_ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Which runner can start a process in the image at all: `onnxrun version` is the smallest run.
runner=""
if podman_err=$(podman run --rm --network host "$IMAGE" version 2>&1 >/dev/null); then
  runner=podman
else
  echo "image-test: podman run cannot run a container here: $(tail -1 <<<"$podman_err")"
  if command -v buildah >/dev/null; then
    buildah_ctr=$(buildah from --name "$container" "$IMAGE")
    if buildah_err=$(buildah run --isolation chroot "$buildah_ctr" /onnxrun version 2>&1 >/dev/null); then
      runner=buildah
    else
      echo "image-test: buildah run --isolation chroot cannot either: $(tail -1 <<<"$buildah_err")"
    fi
  else
    echo "image-test: and buildah is not installed (apt-get install buildah)"
  fi
fi
if [ -z "$runner" ]; then
  echo "image-test: SKIP: no container runner works on this machine; the image was built ($size bytes)"
  exit 0
fi

serve_args=(serve --model-dir /models --host 127.0.0.1 --http-port 0 --health-port 0 --drain-delay 0s --shutdown-timeout 10s)
if [ "$runner" = podman ]; then
  podman run --rm --name "$container" --network host "$IMAGE" "${serve_args[@]}" >"$log" 2>&1 &
else
  buildah run --isolation chroot "$buildah_ctr" /onnxrun "${serve_args[@]}" >"$log" 2>&1 &
fi
runner_pid=$!
echo "image-test: serving the image's /models with $runner"

addr=""
for _ in $(seq $((READY_TIMEOUT * 10))); do
  kill -0 "$runner_pid" 2>/dev/null || { cat "$log" >&2; fail "the server exited before it was ready"; }
  addr=$(sed -n 's/^onnxrun serve: listening on \(http:\/\/[^ ]*\) .*/\1/p' "$log")
  if [ -n "$addr" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$addr/v2/health/ready")" = 200 ]; then
    break
  fi
  addr=""
  sleep 0.1
done
[ -n "$addr" ] || { cat "$log" >&2; fail "not ready within ${READY_TIMEOUT}s"; }
echo "image-test: ready at $addr"
# The kubelet's probes go to the plain-text health port (docs/kserve.md section 5).
health=$(sed -n 's/^onnxrun serve: health probes (plain text) on \(http:\/\/[^ ]*\)$/\1/p' "$log")
[ -n "$health" ] || { cat "$log" >&2; fail "the server printed no health port"; }
[ "$(curl -sS "$health/v2/health/ready")" = '{"ready":true}' ] || fail "$health/v2/health/ready is not {\"ready\":true}"
echo "image-test: the health port $health answers ready"

# The request body comes from the binary that went into the image, run on the host (it is static).
"$IMAGE_CONTEXT/onnxrun" serve "$IMAGE_CONTEXT/models/lenet.onnx" --print-request models/lenet/digit_7.npy >"$work/digit_7.json"
answer=$(curl -sS -H 'Content-Type: application/json' --data-binary @"$work/digit_7.json" "$addr/v2/models/lenet/infer")
class=$(jq -r '.outputs[0].data | index(max)' <<<"$answer") || fail "the answer is not the protocol's JSON: $answer"
[ "$class" = 7 ] || fail "digit_7.npy was classified as $class: $answer"
echo "image-test: digit_7.npy classified as 7 through the image"

# SIGTERM to the server itself. podman run passes it on (--sig-proxy); buildah run would kill its child
# outright, so under buildah the signal goes to the onnxrun process, a descendant of buildah run in the
# host's process table (chroot isolation makes no PID namespace).
server_pid=$runner_pid
if [ "$runner" = buildah ]; then
  server_pid=""
  pending=("$runner_pid")
  while [ ${#pending[@]} -gt 0 ] && [ -z "$server_pid" ]; do
    pid=${pending[0]}
    pending=("${pending[@]:1}")
    for child in $(ps -o pid= --ppid "$pid"); do
      if [ "$(cat "/proc/$child/comm" 2>/dev/null)" = onnxrun ]; then server_pid=$child; break; fi
      pending+=("$child")
    done
  done
  [ -n "$server_pid" ] || fail "no onnxrun process under buildah run (pid $runner_pid)"
fi
kill -TERM "$server_pid"
status=0
wait "$runner_pid" || status=$?
runner_pid=""
[ "$status" = 0 ] || { cat "$log" >&2; fail "the server exited with status $status after SIGTERM"; }
grep -q 'stopped$' "$log" || { cat "$log" >&2; fail "the server's log does not end with a clean stop"; }
echo "image-test: stopped cleanly on SIGTERM"
