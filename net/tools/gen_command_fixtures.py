#!/usr/bin/env python3
"""Record net/tests/fixtures/ from a running Redis 7.0 server: the raw RESP2 and RESP3 replies to
`COMMAND INFO <names> nosuchcommand` and `COMMAND DOCS <names> nosuchcommand`, and names.txt.

The names are every command and subcommand that gen_command_table.py takes from Redis, in table
order, with each container replaced by its subcommands (Redis's containers list more subcommands
than NoKV's) and without the hand-written entries Redis 7.0 lacks. Run from net/:
`python3 tools/gen_command_fixtures.py PORT`.
"""
import os
import sys

from gen_command_table import COMMANDS, SUBCOMMANDS, Conn

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def fixture_names():
    names = []
    for name in COMMANDS:
        names += [name + "|" + sub for sub in SUBCOMMANDS[name]] if name in SUBCOMMANDS else [name]
    return names


def write(file_name, data):
    with open(os.path.join(FIXTURES, file_name), "wb") as f:
        f.write(data)


def main():
    port = int(sys.argv[1])
    names = fixture_names()
    write("names.txt", (" ".join(names) + "\n").encode())
    for proto in (2, 3):
        conn = Conn(port, proto)
        for what in ("info", "docs"):
            _, raw = conn.cmd("COMMAND", what.upper(), *names, "nosuchcommand")
            write("command_%s_resp%d.bin" % (what, proto), raw)


if __name__ == "__main__":
    main()
