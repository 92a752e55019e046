# Shell helpers shared by the benchmark scripts (source it; it defines functions only).

# A free loopback TCP port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 30 s for a server on 127.0.0.1:$1 to answer PING; fails with a message otherwise.
wait_ready() {
  for _ in $(seq 1 300); do redis-cli -p "$1" PING >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2
  return 1
}

# MiB of field $2 in INFO text $1 (`name:bytes` lines).
info_mib() { awk -F: -v f="$2" '$1==f{printf "%d", $2/1048576}' <<<"$1"; }

# One line comparing a NoKV server's RSS with its memory budgets (INFO memory):
# "RSS X MiB (peak Y) vs budgets Z MiB = caches C (using c) + memtables M (using m) + stated overhead O
# + table indexes and filters T" (T has no budget: it follows the data on disk).
memory_budget_line() { # port pid
  local info rss hwm
  info=$(redis-cli -p "$1" INFO memory | tr -d '\r')
  rss=$(awk '$1=="VmRSS:"{printf "%d", $2/1024}' "/proc/$2/status")
  hwm=$(awk '$1=="VmHWM:"{printf "%d", $2/1024}' "/proc/$2/status")
  echo "RSS $rss MiB (peak $hwm) vs budgets $(info_mib "$info" nokv_memory_budget_bytes) MiB =" \
    "caches $(info_mib "$info" nokv_cache_budget_bytes) (using $(info_mib "$info" nokv_cache_bytes))" \
    "+ memtables $(info_mib "$info" nokv_memtable_budget_bytes) (using $(info_mib "$info" nokv_memtable_bytes))" \
    "+ stated overhead $(info_mib "$info" nokv_overhead_budget_bytes)" \
    "+ table indexes and filters $(info_mib "$info" nokv_table_meta_bytes)" \
    "(journal index using $(info_mib "$info" nokv_journal_index_bytes))"
}
