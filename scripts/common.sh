# Sourced by the scripts here: where cargo puts the binaries, and waiting for a server.

# cargo's target directory, honouring CARGO_TARGET_DIR as cargo does
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

# wait_ready URL PID LOG [SECONDS]: returns once URL answers; fails, with the end of LOG,
# when the server PID exits first or SECONDS (default 120) pass.
wait_ready() {
  local url=$1 pid=$2 log=$3 limit=${4:-120} start=$SECONDS
  until curl -sf "$url" >/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the server exited before it was ready; the end of $log:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    if ((SECONDS - start > limit)); then
      echo "the server was not ready after ${limit}s; the end of $log:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.01
  done
}
