#!/usr/bin/env python3
"""Generate net/src/command/table.rs from a running Redis 7 server's COMMAND INFO and COMMAND DOCS.

Used once to seed the table with Redis's exact metadata; the generated file is then the source of
truth and is edited by hand (CLIENT SETINFO and CLIENT NO-TOUCH, which Redis 7.0 lacks, were
added from Redis 7.2's `client-setinfo.json` and `client-no-touch.json`). Run against a Redis 7.0
server, then rustfmt (tools/gen_command_fixtures.py records the matching test fixtures):
`python3 gen_command_table.py PORT > ../src/command/table.rs && cargo fmt`.
"""
import sys

import socket


class Conn:
    def __init__(self, port, proto=2):
        self.s = socket.create_connection(("127.0.0.1", port)); self.buf = b""
        if proto == 3: self.cmd("HELLO", "3")
    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d: raise EOFError
        self.buf += d
    def _line(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0: return self.buf[pos:i], i + 2
            self._fill()
    def _need(self, end):
        while len(self.buf) < end: self._fill()
    def _parse(self, pos):
        line, pos = self._line(pos); t = chr(line[0]); body = line[1:]
        if t in "+-": return (t, body.decode()), pos
        if t == ":": return (t, int(body)), pos
        if t == ",": return (t, body.decode()), pos
        if t == "#": return (t, body == b"t"), pos
        if t == "_": return (t, None), pos
        if t in "$=!":
            n = int(body)
            if n < 0: return ("$", None), pos
            self._need(pos + n + 2); return (t, self.buf[pos:pos+n].decode()), pos + n + 2
        if t in "*~>":
            n = int(body)
            if n < 0: return ("*", None), pos
            items = []
            for _ in range(n):
                v, pos = self._parse(pos); items.append(v)
            return (t, items), pos
        if t == "%":
            n = int(body); items = []
            for _ in range(n):
                k, pos = self._parse(pos); v, pos = self._parse(pos); items.append((k, v))
            return (t, items), pos
        raise ValueError(line)
    def read_raw(self):
        v, pos = self._parse(0); raw = self.buf[:pos]; self.buf = self.buf[pos:]; return v, raw
    def cmd(self, *args):
        self.send(*args); return self.read_raw()


COMMANDS = """ping echo hello auth select quit reset client get set setnx setex psetex getset getdel getex
mget mset msetnx incr decr incrby decrby incrbyfloat append strlen getrange setrange del unlink exists
touch type expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime persist keys scan
randomkey rename renamenx copy info dbsize flushdb flushall time config shutdown latency slowlog
command multi exec discard watch unwatch""".split()
# Only subcommands the handlers answer: a listed subcommand passes dispatch, so listing one the
# handler lacks would turn Redis's "unknown subcommand" into a handler error and make COMMAND
# advertise it. Left out for that reason: LATENCY GRAPH/HISTORY, CLIENT GETREDIR/PAUSE/UNPAUSE/
# REPLY/TRACKING, CONFIG HELP/REWRITE, COMMAND HELP/GETKEYS/GETKEYSANDFLAGS.
SUBCOMMANDS = {
    "client": "id setname getname list info kill no-evict help".split(),
    "config": "get set resetstat".split(),
    "latency": "histogram latest reset doctor help".split(),
    "slowlog": "get len reset help".split(),
    "command": "count info docs list".split(),
}


# Subcommands Redis 7.0 lacks, written by hand from later Redis versions' JSON files.
HAND_WRITTEN = {"client": '''        // Redis 7.2's `client-setinfo.json` (not in 7.0); lib-instance-name is newer still.
            CommandSpec {
                name: "client|setinfo",
                arity: 4,
                flags: CommandFlags::NOSCRIPT.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Set client or connection specific info",
                    since: "7.2.0",
                    group: Group::Connection,
                    complexity: "O(1)",
                    arguments: &[Arg {
                        name: "attr",
                        kind: ArgType::Oneof,
                        arguments: &[
                            Arg { name: "libname", kind: ArgType::String, token: Some("LIB-NAME"), ..Arg::DEFAULT },
                            Arg { name: "libver", kind: ArgType::String, token: Some("LIB-VER"), ..Arg::DEFAULT },
                        ],
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            // Redis 7.2's `client-no-touch.json` (not in 7.0).
            CommandSpec {
                name: "client|no-touch",
                arity: 3,
                flags: CommandFlags::NOSCRIPT.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
                    since: "7.2.0",
                    group: Group::Connection,
                    complexity: "O(1)",
                    arguments: &[Arg {
                        name: "enabled",
                        kind: ArgType::Oneof,
                        arguments: &[
                            Arg { name: "on", kind: ArgType::PureToken, token: Some("ON"), ..Arg::DEFAULT },
                            Arg { name: "off", kind: ArgType::PureToken, token: Some("OFF"), ..Arg::DEFAULT },
                        ],
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
'''}


def plain(node):
    kind, val = node
    if kind in "*~>":
        return [plain(i) for i in val]
    if kind == "%":
        return {plain(k): plain(v) for k, v in val}
    return val


def rs(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def opt(s):
    return "None" if s is None else "Some(%s)" % rs(s)


def strs(items):
    return "&[" + ", ".join(rs(i) for i in items) + "]"


def flags_expr(typ, names):
    if not names:
        return "%s::EMPTY" % typ
    parts = ["%s::%s" % (typ, n.upper()) for n in names]
    expr = parts[0]
    for p in parts[1:]:
        expr += ".union(%s)" % p
    return expr


REQ = {"all_nodes": "AllNodes", "all_shards": "AllShards", "multi_shard": "MultiShard", "special": "Special"}
RESP = {"one_succeeded": "OneSucceeded", "all_succeeded": "AllSucceeded", "agg_logical_and": "AggLogicalAnd",
        "agg_logical_or": "AggLogicalOr", "agg_min": "AggMin", "agg_max": "AggMax", "agg_sum": "AggSum",
        "special": "Special"}


def policies(tips):
    req, resp = "Default", "Default"
    for t in tips:
        if t.startswith("request_policy:"):
            req = REQ[t.split(":")[1]]
        if t.startswith("response_policy:"):
            resp = RESP[t.split(":")[1]]
    return req, resp


def key_spec(ks, ind):
    bs, fk = ks["begin_search"], ks["find_keys"]
    if bs["type"] == "index":
        begin = "BeginSearch::Index(%d)" % bs["spec"]["index"]
    elif bs["type"] == "keyword":
        begin = "BeginSearch::Keyword { keyword: %s, start_from: %d }" % (rs(bs["spec"]["keyword"]), bs["spec"]["startfrom"])
    else:
        begin = "BeginSearch::Unknown"
    if fk["type"] == "range":
        s = fk["spec"]
        find = "FindKeys::Range { last_key: %d, key_step: %d, limit: %d }" % (s["lastkey"], s["keystep"], s["limit"])
    elif fk["type"] == "keynum":
        s = fk["spec"]
        find = "FindKeys::KeyNum { key_num_index: %d, first_key: %d, key_step: %d }" % (s["keynumidx"], s["firstkey"], s["keystep"])
    else:
        find = "FindKeys::Unknown"
    flags = flags_expr("KeySpecFlags", ks["flags"])
    notes = opt(ks.get("notes"))
    return "%sKeySpec { notes: %s, flags: %s, begin_search: %s, find_keys: %s }" % (ind, notes, flags, begin, find)


def arg(a, ind):
    out = ind + "Arg {\n"
    f = ind + "    "
    out += f + "name: %s,\n" % rs(a["name"])
    out += f + "kind: ArgType::%s,\n" % "".join(p.capitalize() for p in a["type"].split("-"))
    if "key_spec_index" in a:
        out += f + "key_spec_index: Some(%d),\n" % a["key_spec_index"]
    for field in ("token", "summary", "since", "deprecated_since"):
        if field in a:
            out += f + "%s: Some(%s),\n" % (field, rs(a[field]))
    if a.get("flags"):
        out += f + "flags: %s,\n" % flags_expr("ArgFlags", a["flags"])
    if a.get("arguments"):
        out += f + "arguments: &[\n" + "".join(arg(x, f + "    ") for x in a["arguments"]) + f + "],\n"
    out += f + "..Arg::DEFAULT\n" + ind + "},\n"
    return out


def doc(d, ind):
    f = ind + "    "
    out = "CommandDoc {\n"
    out += f + "summary: %s,\n" % rs(d["summary"])
    out += f + "since: %s,\n" % rs(d["since"])
    out += f + "group: Group::%s,\n" % d["group"].capitalize()
    out += f + "complexity: %s,\n" % rs(d.get("complexity", ""))
    if d.get("doc_flags"):
        out += f + "doc_flags: %s,\n" % strs(d["doc_flags"])
    for field in ("deprecated_since", "replaced_by"):
        if field in d:
            out += f + "%s: Some(%s),\n" % (field, rs(d[field]))
    if d.get("history"):
        out += f + "history: &[\n" + "".join(f + "    (%s, %s),\n" % (rs(v), rs(t)) for v, t in d["history"]) + f + "],\n"
    if d.get("arguments"):
        out += f + "arguments: &[\n" + "".join(arg(x, f + "    ") for x in d["arguments"]) + f + "],\n"
    out += f + "..CommandDoc::DEFAULT\n" + ind + "}"
    return out


def spec(info, docs, ind, subs):
    name, arity, flags, first, last, step, acl, tips, kspecs, _sub = info
    req, resp = policies(tips)
    f = ind + "    "
    out = ind + "CommandSpec {\n"
    out += f + "name: %s,\n" % rs(name)
    out += f + "arity: %d,\n" % arity
    out += f + "flags: %s,\n" % flags_expr("CommandFlags", flags)
    out += f + "first_key: %d,\n" % first + f + "last_key: %d,\n" % last + f + "step: %d,\n" % step
    out += f + "acl_categories: %s,\n" % strs(acl)
    if tips:
        out += f + "tips: %s,\n" % strs(tips)
    if req != "Default":
        out += f + "request_policy: RequestPolicy::%s,\n" % req
    if resp != "Default":
        out += f + "response_policy: ResponsePolicy::%s,\n" % resp
    if kspecs:
        out += f + "key_specs: &[\n" + "".join(key_spec(k, f + "    ") + ",\n" for k in kspecs) + f + "],\n"
    if subs:
        out += f + "subcommands: &[\n" + subs + f + "],\n"
    out += f + "doc: " + doc(docs, f) + ",\n"
    out += f + "..CommandSpec::DEFAULT\n" + ind + "},\n"
    return out


def main():
    c = Conn(int(sys.argv[1]), 3)
    infos = plain(c.cmd("COMMAND", "INFO", *COMMANDS)[0])
    docs = plain(c.cmd("COMMAND", "DOCS", *COMMANDS)[0])
    print("//! The command table's data: Redis 7.0.15's metadata for every command NoKV serves.")
    print("//!")
    print("//! Seeded by `net/tools/gen_command_table.py` from Redis 7.0.15's `COMMAND INFO` and")
    print("//! `COMMAND DOCS`; maintained by hand since (CLIENT SETINFO and CLIENT NO-TOUCH come from")
    print("//! Redis 7.2). Order is the order of `COMMAND` and `COMMAND LIST` replies.")
    print()
    print("use super::spec::*;")
    print()
    print("/// Every top-level command, with its subcommands nested.")
    print("pub static COMMANDS: &[CommandSpec] = &[")
    for info in infos:
        name = info[0]
        subs = ""
        for sub in SUBCOMMANDS.get(name, []):
            full = name + "|" + sub
            sinfo = next(s for s in info[9] if s[0] == full)
            subs += spec(sinfo, docs[name]["subcommands"][full], "        ", "")
        subs += HAND_WRITTEN.get(name, "")
        print(spec(info, docs[name], "    ", subs), end="")
    print("];")


if __name__ == "__main__":
    main()
