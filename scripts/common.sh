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

# wrk's report on stdin → "rps p50_ms p99_ms errors requests"
summarize() {
  python3 -c '
import re, sys
t = sys.stdin.read()
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
def ms(label):
    m = re.search(r"^\s+" + label + r"%\s+([\d.]+)(us|ms|s)", t, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
total = int(re.search(r"(\d+) requests in", t).group(1))
bad = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t))
bad += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
p50, p99 = ms("50"), ms("99")
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {bad} {total}")'
}
