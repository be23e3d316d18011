#!/usr/bin/env bash
# Latency of `dermsim serve`'s /api/predict on loopback, and the server's memory: starts the
# server on RUN (trained and evaluated), loads it with 1 client x N1 requests and 8 clients x N8
# requests (bench/serve_load), prints VmRSS after loading and after the load, stops it.
#   bash bench/serve_latency.sh RUN IMAGE [THREADS] [N1] [N8]
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$1; IMAGE=$2; THREADS=${3:-0}; N1=${4:-50}; N8=${5:-25}
LOG=$(mktemp /tmp/serve-latency-XXXXXX.log)
build/dermsim serve --run "$RUN" --port 0 --threads "$THREADS" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 600); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG")
rss() { awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' /proc/$PID/status; }
echo "server --threads $THREADS on port $PORT: RSS after loading $(rss)"
build/bench/serve_load "$PORT" "$IMAGE" 1 "$N1"
build/bench/serve_load "$PORT" "$IMAGE" 8 "$N8"
echo "RSS after the load: $(rss)"
kill -TERM $PID; wait $PID
