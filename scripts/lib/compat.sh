# Shared by scripts/compat-redis-py and scripts/compat-fakeredis (sourced, not run): servers on
# free ports, the venv, the report header.  Every server started here is remembered by PID and
# stopped by that PID (and only that PID) when the script exits.

COMPAT_PIDS=()
COMPAT_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

compat_die() { echo "error: $*" >&2; exit 2; }
compat_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

compat_cleanup() {
  local pid
  for pid in "${COMPAT_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${COMPAT_PIDS[@]}"; do
    # Bounded wait, then SIGKILL: a server that ignores SIGTERM must not outlive the script.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  COMPAT_PIDS=()
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
compat_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits up to 30 s until something accepts connections on 127.0.0.1:$1 while PID $2 lives.
compat_wait_port() {
  local port=$1 pid=$2
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# compat_start_nokv BIN DATA_DIR PORT LOG: starts NoKV in the background; sets COMPAT_STARTED_PID.
compat_start_nokv() {
  local bin=$1 dir=$2 port=$3 log=$4
  "$bin" --port "$port" --bind 127.0.0.1 --dir "$dir" </dev/null >"$log" 2>&1 &
  COMPAT_STARTED_PID=$!
  COMPAT_PIDS+=("$COMPAT_STARTED_PID")
  compat_wait_port "$port" "$COMPAT_STARTED_PID" || { tail -20 "$log" >&2; compat_die "nokv did not start (log: $log)"; }
}

# compat_start_redis DIR PORT LOG: a throwaway redis-server, no persistence; sets COMPAT_STARTED_PID.
compat_start_redis() {
  local dir=$1 port=$2 log=$3
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --daemonize no --logfile "" </dev/null >"$log" 2>&1 &
  COMPAT_STARTED_PID=$!
  COMPAT_PIDS+=("$COMPAT_STARTED_PID")
  compat_wait_port "$port" "$COMPAT_STARTED_PID" || { tail -20 "$log" >&2; compat_die "redis-server did not start (log: $log)"; }
}

# compat_stop PID: stops one server started above (a test may already have shut it down).
compat_stop() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

# compat_venv DIR PACKAGE...: a venv at DIR with the packages installed (kept as a cache: a venv
# whose stamp lists the same packages is reused).  Prints nothing; dies on failure.
compat_venv() {
  local dir=$1; shift
  local want="$*"
  if [[ -x "$dir/bin/python" && -f "$dir/.compat-stamp" && "$(cat "$dir/.compat-stamp")" == "$want" ]]; then
    return 0
  fi
  rm -rf "$dir"
  python3 -m venv "$dir" || compat_die "python3 -m venv failed"
  timeout 600 "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" </dev/null \
    || compat_die "pip install $* failed"
  echo "$want" >"$dir/.compat-stamp"
}

# compat_machine: one line describing this machine for the report.
compat_machine() {
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
  echo "$(uname -srm), $(nproc) cores${cpu:+ ($cpu)}, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
}

# compat_nokv_version BIN: NoKV's version and git commit of the checkout it was built from.
compat_nokv_version() {
  local bin=$1 commit
  commit=$(git -C "$COMPAT_LIB_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if ! git -C "$COMPAT_LIB_DIR" diff --quiet HEAD 2>/dev/null; then commit="$commit+dirty"; fi
  echo "$("$bin" --version 2>/dev/null | head -1) (checkout $commit, binary $bin)"
}

# compat_closing_lines LOG: pytest's summary line, or the error that stopped the session.
compat_closing_lines() {
  local log=$1
  grep -E '( in [0-9.]+s( \([0-9:]+\))?$|^INTERNALERROR> [A-Za-z_.]+(Error|Exception|Exit)\b|^(ERROR|Exit):? )' "$log" | tail -3 || true
}

# compat_keep_logs WORK DEST: keeps the run's pytest and server logs for a look after the temp dir goes.
compat_keep_logs() {
  local work=$1 dest=$2
  rm -rf "$dest" && mkdir -p "$dest" && cp "$work"/*.log "$work"/*.xml "$dest"/ 2>/dev/null || true
}
