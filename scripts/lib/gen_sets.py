"""Writes N SET commands in RESP to stdout: keys `key:<12-digit i>`, values of SIZE bytes.

usage: gen_sets.py N SIZE [random]
  random: values are slices of a 16 MiB random pool that do not overlap for neighbouring keys,
  so lz4 cannot shrink them (the data on disk is about N x SIZE); otherwise every byte is 'v'.
Fed to `redis-cli --pipe` by scripts/bench-memory and scripts/bench-large.
"""
import os
import sys

n, size = int(sys.argv[1]), int(sys.argv[2])
randomized = len(sys.argv) > 3 and sys.argv[3] == "random"
out = sys.stdout.buffer
pool = os.urandom(16 << 20) if randomized else b""
stride = size + 7  # neighbouring keys' slices never overlap
constant = b"$%d\r\n" % size + b"v" * size + b"\r\n"
chunk = []
for i in range(n):
    key = b"key:%012d" % i
    if randomized:
        start = (i * stride) % (len(pool) - size)
        value = b"$%d\r\n" % size + pool[start:start + size] + b"\r\n"
    else:
        value = constant
    chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n%s" % (len(key), key, value))
    if len(chunk) == 10000:
        out.write(b"".join(chunk))
        chunk.clear()
out.write(b"".join(chunk))
