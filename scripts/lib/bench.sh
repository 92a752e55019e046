# Shell helpers shared by the benchmark scripts (source it; it defines functions only).

# A free loopback TCP port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 30 s for a server on 127.0.0.1:$1 to answer PING; fails with a message otherwise.
wait_ready() {
  for _ in $(seq 1 300); do redis-cli -p "$1" PING >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2
  return 1
}
