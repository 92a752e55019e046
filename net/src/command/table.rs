//! The command table's data: Redis 7.0.15's metadata for every command NoKV serves.
//!
//! Seeded by `net/tools/gen_command_table.py` from Redis 7.0.15's `COMMAND INFO` and
//! `COMMAND DOCS`; maintained by hand since (CLIENT SETINFO and CLIENT NO-TOUCH come from
//! Redis 7.2). Order is the order of `COMMAND` and `COMMAND LIST` replies.

use super::spec::*;

/// Every top-level command, with its subcommands nested.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: CommandFlags::FAST,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        request_policy: RequestPolicy::AllShards,
        response_policy: ResponsePolicy::AllSucceeded,
        doc: CommandDoc {
            summary: "Ping the server",
            since: "1.0.0",
            group: Group::Connection,
            complexity: "O(1)",
            arguments: &[Arg { name: "message", kind: ArgType::String, flags: ArgFlags::OPTIONAL, ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: CommandFlags::LOADING.union(CommandFlags::STALE).union(CommandFlags::FAST),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        doc: CommandDoc {
            summary: "Echo the given string",
            since: "1.0.0",
            group: Group::Connection,
            complexity: "O(1)",
            arguments: &[Arg { name: "message", kind: ArgType::String, ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::NO_AUTH)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        doc: CommandDoc {
            summary: "Handshake with Redis",
            since: "6.0.0",
            group: Group::Connection,
            complexity: "O(1)",
            history: &[(
                "6.2.0",
                "`protover` made optional; when called without arguments the command reports the current connection's context.",
            )],
            arguments: &[Arg {
                name: "arguments",
                kind: ArgType::Block,
                flags: ArgFlags::OPTIONAL,
                arguments: &[
                    Arg { name: "protover", kind: ArgType::Integer, ..Arg::DEFAULT },
                    Arg {
                        name: "username_password",
                        kind: ArgType::Block,
                        token: Some("AUTH"),
                        flags: ArgFlags::OPTIONAL,
                        arguments: &[
                            Arg { name: "username", kind: ArgType::String, ..Arg::DEFAULT },
                            Arg { name: "password", kind: ArgType::String, ..Arg::DEFAULT },
                        ],
                        ..Arg::DEFAULT
                    },
                    Arg {
                        name: "clientname",
                        kind: ArgType::String,
                        token: Some("SETNAME"),
                        flags: ArgFlags::OPTIONAL,
                        ..Arg::DEFAULT
                    },
                ],
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::NO_AUTH)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        doc: CommandDoc {
            summary: "Authenticate to the server",
            since: "1.0.0",
            group: Group::Connection,
            complexity: "O(N) where N is the number of passwords defined for the user",
            history: &[("6.0.0", "Added ACL style (username and password).")],
            arguments: &[
                Arg {
                    name: "username",
                    kind: ArgType::String,
                    since: Some("6.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg { name: "password", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: CommandFlags::LOADING.union(CommandFlags::STALE).union(CommandFlags::FAST),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        doc: CommandDoc {
            summary: "Change the selected database for the current connection",
            since: "1.0.0",
            group: Group::Connection,
            complexity: "O(1)",
            arguments: &[Arg { name: "index", kind: ArgType::Integer, ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::NO_AUTH)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        doc: CommandDoc {
            summary: "Close the connection",
            since: "1.0.0",
            group: Group::Connection,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::NO_AUTH)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@connection"],
        doc: CommandDoc {
            summary: "Reset the connection",
            since: "6.2.0",
            group: Group::Connection,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "client",
        arity: -2,
        flags: CommandFlags::EMPTY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow"],
        subcommands: &[
            CommandSpec {
                name: "client|id",
                arity: 2,
                flags: CommandFlags::NOSCRIPT.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Returns the client ID for the current connection",
                    since: "5.0.0",
                    group: Group::Connection,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "client|setname",
                arity: 3,
                flags: CommandFlags::NOSCRIPT.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Set the current connection name",
                    since: "2.6.9",
                    group: Group::Connection,
                    complexity: "O(1)",
                    arguments: &[Arg { name: "connection-name", kind: ArgType::String, ..Arg::DEFAULT }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "client|getname",
                arity: 2,
                flags: CommandFlags::NOSCRIPT.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Get the current connection name",
                    since: "2.6.9",
                    group: Group::Connection,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "client|list",
                arity: -2,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
                tips: &["nondeterministic_output"],
                doc: CommandDoc {
                    summary: "Get the list of client connections",
                    since: "2.4.0",
                    group: Group::Connection,
                    complexity: "O(N) where N is the number of client connections",
                    history: &[
                        ("2.8.12", "Added unique client `id` field."),
                        ("5.0.0", "Added optional `TYPE` filter."),
                        ("6.0.0", "Added `user` field."),
                        (
                            "6.2.0",
                            "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
                        ),
                        ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                        ("7.0.3", "Added `ssub` field."),
                    ],
                    arguments: &[
                        Arg {
                            name: "normal_master_replica_pubsub",
                            kind: ArgType::Oneof,
                            token: Some("TYPE"),
                            since: Some("5.0.0"),
                            flags: ArgFlags::OPTIONAL,
                            arguments: &[
                                Arg { name: "normal", kind: ArgType::PureToken, token: Some("NORMAL"), ..Arg::DEFAULT },
                                Arg { name: "master", kind: ArgType::PureToken, token: Some("MASTER"), ..Arg::DEFAULT },
                                Arg {
                                    name: "replica",
                                    kind: ArgType::PureToken,
                                    token: Some("REPLICA"),
                                    ..Arg::DEFAULT
                                },
                                Arg { name: "pubsub", kind: ArgType::PureToken, token: Some("PUBSUB"), ..Arg::DEFAULT },
                            ],
                            ..Arg::DEFAULT
                        },
                        Arg {
                            name: "id",
                            kind: ArgType::Block,
                            token: Some("ID"),
                            since: Some("6.2.0"),
                            flags: ArgFlags::OPTIONAL,
                            arguments: &[Arg {
                                name: "client-id",
                                kind: ArgType::Integer,
                                flags: ArgFlags::MULTIPLE,
                                ..Arg::DEFAULT
                            }],
                            ..Arg::DEFAULT
                        },
                    ],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "client|info",
                arity: 2,
                flags: CommandFlags::NOSCRIPT.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                tips: &["nondeterministic_output"],
                doc: CommandDoc {
                    summary: "Returns information about the current client connection.",
                    since: "6.2.0",
                    group: Group::Connection,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "client|kill",
                arity: -3,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
                doc: CommandDoc {
                    summary: "Kill the connection of a client",
                    since: "2.4.0",
                    group: Group::Connection,
                    complexity: "O(N) where N is the number of client connections",
                    history: &[
                        ("2.8.12", "Added new filter format."),
                        ("2.8.12", "`ID` option."),
                        ("3.2.0", "Added `master` type in for `TYPE` option."),
                        (
                            "5.0.0",
                            "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.",
                        ),
                        ("6.2.0", "`LADDR` option."),
                    ],
                    arguments: &[Arg {
                        name: "filter",
                        kind: ArgType::Oneof,
                        arguments: &[
                            Arg {
                                name: "ip:port",
                                kind: ArgType::String,
                                deprecated_since: Some("2.8.12"),
                                ..Arg::DEFAULT
                            },
                            Arg {
                                name: "new-format",
                                kind: ArgType::Oneof,
                                flags: ArgFlags::MULTIPLE,
                                arguments: &[
                                    Arg {
                                        name: "client-id",
                                        kind: ArgType::Integer,
                                        token: Some("ID"),
                                        since: Some("2.8.12"),
                                        flags: ArgFlags::OPTIONAL,
                                        ..Arg::DEFAULT
                                    },
                                    Arg {
                                        name: "normal_master_slave_pubsub",
                                        kind: ArgType::Oneof,
                                        token: Some("TYPE"),
                                        since: Some("2.8.12"),
                                        flags: ArgFlags::OPTIONAL,
                                        arguments: &[
                                            Arg {
                                                name: "normal",
                                                kind: ArgType::PureToken,
                                                token: Some("NORMAL"),
                                                ..Arg::DEFAULT
                                            },
                                            Arg {
                                                name: "master",
                                                kind: ArgType::PureToken,
                                                token: Some("MASTER"),
                                                since: Some("3.2.0"),
                                                ..Arg::DEFAULT
                                            },
                                            Arg {
                                                name: "slave",
                                                kind: ArgType::PureToken,
                                                token: Some("SLAVE"),
                                                ..Arg::DEFAULT
                                            },
                                            Arg {
                                                name: "replica",
                                                kind: ArgType::PureToken,
                                                token: Some("REPLICA"),
                                                since: Some("5.0.0"),
                                                ..Arg::DEFAULT
                                            },
                                            Arg {
                                                name: "pubsub",
                                                kind: ArgType::PureToken,
                                                token: Some("PUBSUB"),
                                                ..Arg::DEFAULT
                                            },
                                        ],
                                        ..Arg::DEFAULT
                                    },
                                    Arg {
                                        name: "username",
                                        kind: ArgType::String,
                                        token: Some("USER"),
                                        flags: ArgFlags::OPTIONAL,
                                        ..Arg::DEFAULT
                                    },
                                    Arg {
                                        name: "ip:port",
                                        kind: ArgType::String,
                                        token: Some("ADDR"),
                                        flags: ArgFlags::OPTIONAL,
                                        ..Arg::DEFAULT
                                    },
                                    Arg {
                                        name: "ip:port",
                                        kind: ArgType::String,
                                        token: Some("LADDR"),
                                        since: Some("6.2.0"),
                                        flags: ArgFlags::OPTIONAL,
                                        ..Arg::DEFAULT
                                    },
                                    Arg {
                                        name: "yes/no",
                                        kind: ArgType::String,
                                        token: Some("SKIPME"),
                                        flags: ArgFlags::OPTIONAL,
                                        ..Arg::DEFAULT
                                    },
                                ],
                                ..Arg::DEFAULT
                            },
                        ],
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "client|no-evict",
                arity: 3,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
                doc: CommandDoc {
                    summary: "Set client eviction mode for the current connection",
                    since: "7.0.0",
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
            CommandSpec {
                name: "client|help",
                arity: 2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Show helpful text about the different subcommands",
                    since: "5.0.0",
                    group: Group::Connection,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            // Redis 7.2's `client-setinfo.json` (not in 7.0); lib-instance-name is newer still.
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
        ],
        doc: CommandDoc {
            summary: "A container for client connection commands",
            since: "2.4.0",
            group: Group::Connection,
            complexity: "Depends on subcommand.",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@read", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the value of a key",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@slow"],
        key_specs: &[KeySpec {
            notes: Some("RW and ACCESS due to the optional `GET` argument"),
            flags: KeySpecFlags::RW
                .union(KeySpecFlags::ACCESS)
                .union(KeySpecFlags::UPDATE)
                .union(KeySpecFlags::VARIABLE_FLAGS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the string value of a key",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            history: &[
                ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                ("6.0.0", "Added the `KEEPTTL` option."),
                ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
            ],
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
                Arg {
                    name: "condition",
                    kind: ArgType::Oneof,
                    since: Some("2.6.12"),
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "nx", kind: ArgType::PureToken, token: Some("NX"), ..Arg::DEFAULT },
                        Arg { name: "xx", kind: ArgType::PureToken, token: Some("XX"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "get",
                    kind: ArgType::PureToken,
                    token: Some("GET"),
                    since: Some("6.2.0"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "expiration",
                    kind: ArgType::Oneof,
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg {
                            name: "seconds",
                            kind: ArgType::Integer,
                            token: Some("EX"),
                            since: Some("2.6.12"),
                            ..Arg::DEFAULT
                        },
                        Arg {
                            name: "milliseconds",
                            kind: ArgType::Integer,
                            token: Some("PX"),
                            since: Some("2.6.12"),
                            ..Arg::DEFAULT
                        },
                        Arg {
                            name: "unix-time-seconds",
                            kind: ArgType::UnixTime,
                            token: Some("EXAT"),
                            since: Some("6.2.0"),
                            ..Arg::DEFAULT
                        },
                        Arg {
                            name: "unix-time-milliseconds",
                            kind: ArgType::UnixTime,
                            token: Some("PXAT"),
                            since: Some("6.2.0"),
                            ..Arg::DEFAULT
                        },
                        Arg {
                            name: "keepttl",
                            kind: ArgType::PureToken,
                            token: Some("KEEPTTL"),
                            since: Some("6.0.0"),
                            ..Arg::DEFAULT
                        },
                    ],
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::OW.union(KeySpecFlags::INSERT),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the value of a key, only if the key does not exist",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@slow"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::OW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the value and expiration of a key",
            since: "2.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "seconds", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@slow"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::OW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the value and expiration in milliseconds of a key",
            since: "2.6.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "milliseconds", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the string value of a key and return its old value",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            doc_flags: &["deprecated"],
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`SET` with the `!GET` argument"),
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::DELETE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the value of a key and delete the key",
            since: "6.2.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: Some("RW and UPDATE because it changes the TTL"),
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the value of a key and optionally set its expiration",
            since: "6.2.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg {
                    name: "expiration",
                    kind: ArgType::Oneof,
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "seconds", kind: ArgType::Integer, token: Some("EX"), ..Arg::DEFAULT },
                        Arg { name: "milliseconds", kind: ArgType::Integer, token: Some("PX"), ..Arg::DEFAULT },
                        Arg { name: "unix-time-seconds", kind: ArgType::UnixTime, token: Some("EXAT"), ..Arg::DEFAULT },
                        Arg {
                            name: "unix-time-milliseconds",
                            kind: ArgType::UnixTime,
                            token: Some("PXAT"),
                            ..Arg::DEFAULT
                        },
                        Arg { name: "persist", kind: ArgType::PureToken, token: Some("PERSIST"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: -1,
        step: 1,
        acl_categories: &["@read", "@string", "@fast"],
        tips: &["request_policy:multi_shard"],
        request_policy: RequestPolicy::MultiShard,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the values of all the given keys",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(N) where N is the number of keys to retrieve.",
            arguments: &[Arg {
                name: "key",
                kind: ArgType::Key,
                key_spec_index: Some(0),
                flags: ArgFlags::MULTIPLE,
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: -1,
        step: 2,
        acl_categories: &["@write", "@string", "@slow"],
        tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
        request_policy: RequestPolicy::MultiShard,
        response_policy: ResponsePolicy::AllSucceeded,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::OW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 2, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set multiple keys to multiple values",
            since: "1.0.1",
            group: Group::String,
            complexity: "O(N) where N is the number of keys to set.",
            arguments: &[Arg {
                name: "key_value",
                kind: ArgType::Block,
                flags: ArgFlags::MULTIPLE,
                arguments: &[
                    Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                    Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
                ],
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: -1,
        step: 2,
        acl_categories: &["@write", "@string", "@slow"],
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        request_policy: RequestPolicy::MultiShard,
        response_policy: ResponsePolicy::AggMin,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::OW.union(KeySpecFlags::INSERT),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 2, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set multiple keys to multiple values, only if none of the keys exist",
            since: "1.0.1",
            group: Group::String,
            complexity: "O(N) where N is the number of keys to set.",
            arguments: &[Arg {
                name: "key_value",
                kind: ArgType::Block,
                flags: ArgFlags::MULTIPLE,
                arguments: &[
                    Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                    Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
                ],
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Increment the integer value of a key by one",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Decrement the integer value of a key by one",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Increment the integer value of a key by the given amount",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "increment", kind: ArgType::Integer, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Decrement the integer value of a key by the given number",
            since: "1.0.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "decrement", kind: ArgType::Integer, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Increment the float value of a key by the given amount",
            since: "2.6.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "increment", kind: ArgType::Double, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM).union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::INSERT),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Append a value to a key",
            since: "2.0.0",
            group: Group::String,
            complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@read", "@string", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO,
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the length of the value stored in a key",
            since: "2.2.0",
            group: Group::String,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: CommandFlags::READONLY,
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@read", "@string", "@slow"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get a substring of the string stored at a key",
            since: "2.4.0",
            group: Group::String,
            complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "start", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg { name: "end", kind: ArgType::Integer, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@write", "@string", "@slow"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Overwrite part of a string at key starting at the specified offset",
            since: "2.2.0",
            group: Group::String,
            complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "offset", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "del",
        arity: -2,
        flags: CommandFlags::WRITE,
        first_key: 1,
        last_key: -1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@slow"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        request_policy: RequestPolicy::MultiShard,
        response_policy: ResponsePolicy::AggSum,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RM.union(KeySpecFlags::DELETE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Delete a key",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
            arguments: &[Arg {
                name: "key",
                kind: ArgType::Key,
                key_spec_index: Some(0),
                flags: ArgFlags::MULTIPLE,
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: -1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        request_policy: RequestPolicy::MultiShard,
        response_policy: ResponsePolicy::AggSum,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RM.union(KeySpecFlags::DELETE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
            since: "4.0.0",
            group: Group::Generic,
            complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
            arguments: &[Arg {
                name: "key",
                kind: ArgType::Key,
                key_spec_index: Some(0),
                flags: ArgFlags::MULTIPLE,
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: -1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        request_policy: RequestPolicy::MultiShard,
        response_policy: ResponsePolicy::AggSum,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO,
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Determine if a key exists",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(N) where N is the number of keys to check.",
            history: &[("3.0.3", "Accepts multiple `key` arguments.")],
            arguments: &[Arg {
                name: "key",
                kind: ArgType::Key,
                key_spec_index: Some(0),
                flags: ArgFlags::MULTIPLE,
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: -1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        request_policy: RequestPolicy::MultiShard,
        response_policy: ResponsePolicy::AggSum,
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO,
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
            since: "3.2.1",
            group: Group::Generic,
            complexity: "O(N) where N is the number of keys that will be touched.",
            arguments: &[Arg {
                name: "key",
                kind: ArgType::Key,
                key_spec_index: Some(0),
                flags: ArgFlags::MULTIPLE,
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO,
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Determine the type stored at key",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set a key's time to live in seconds",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "seconds", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg {
                    name: "condition",
                    kind: ArgType::Oneof,
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "nx", kind: ArgType::PureToken, token: Some("NX"), ..Arg::DEFAULT },
                        Arg { name: "xx", kind: ArgType::PureToken, token: Some("XX"), ..Arg::DEFAULT },
                        Arg { name: "gt", kind: ArgType::PureToken, token: Some("GT"), ..Arg::DEFAULT },
                        Arg { name: "lt", kind: ArgType::PureToken, token: Some("LT"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set a key's time to live in milliseconds",
            since: "2.6.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "milliseconds", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg {
                    name: "condition",
                    kind: ArgType::Oneof,
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "nx", kind: ArgType::PureToken, token: Some("NX"), ..Arg::DEFAULT },
                        Arg { name: "xx", kind: ArgType::PureToken, token: Some("XX"), ..Arg::DEFAULT },
                        Arg { name: "gt", kind: ArgType::PureToken, token: Some("GT"), ..Arg::DEFAULT },
                        Arg { name: "lt", kind: ArgType::PureToken, token: Some("LT"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expireat",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the expiration for a key as a UNIX timestamp",
            since: "1.2.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "unix-time-seconds", kind: ArgType::UnixTime, ..Arg::DEFAULT },
                Arg {
                    name: "condition",
                    kind: ArgType::Oneof,
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "nx", kind: ArgType::PureToken, token: Some("NX"), ..Arg::DEFAULT },
                        Arg { name: "xx", kind: ArgType::PureToken, token: Some("XX"), ..Arg::DEFAULT },
                        Arg { name: "gt", kind: ArgType::PureToken, token: Some("GT"), ..Arg::DEFAULT },
                        Arg { name: "lt", kind: ArgType::PureToken, token: Some("LT"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpireat",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
            since: "2.6.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "unix-time-milliseconds", kind: ArgType::UnixTime, ..Arg::DEFAULT },
                Arg {
                    name: "condition",
                    kind: ArgType::Oneof,
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "nx", kind: ArgType::PureToken, token: Some("NX"), ..Arg::DEFAULT },
                        Arg { name: "xx", kind: ArgType::PureToken, token: Some("XX"), ..Arg::DEFAULT },
                        Arg { name: "gt", kind: ArgType::PureToken, token: Some("GT"), ..Arg::DEFAULT },
                        Arg { name: "lt", kind: ArgType::PureToken, token: Some("LT"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        tips: &["nondeterministic_output"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the time to live for a key in seconds",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[("2.8.0", "Added the -2 reply.")],
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        tips: &["nondeterministic_output"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the time to live for a key in milliseconds",
            since: "2.6.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[("2.8.0", "Added the -2 reply.")],
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "expiretime",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the expiration Unix timestamp for a key",
            since: "7.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pexpiretime",
        arity: 2,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@read", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Get the expiration Unix timestamp for a key in milliseconds",
            since: "7.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 1,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RW.union(KeySpecFlags::UPDATE),
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Remove the expiration from a key",
            since: "2.2.0",
            group: Group::Generic,
            complexity: "O(1)",
            arguments: &[Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: CommandFlags::READONLY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@keyspace", "@read", "@slow", "@dangerous"],
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        request_policy: RequestPolicy::AllShards,
        doc: CommandDoc {
            summary: "Find all keys matching the given pattern",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
            arguments: &[Arg { name: "pattern", kind: ArgType::Pattern, ..Arg::DEFAULT }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: CommandFlags::READONLY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@keyspace", "@read", "@slow"],
        tips: &["nondeterministic_output", "request_policy:special"],
        request_policy: RequestPolicy::Special,
        doc: CommandDoc {
            summary: "Incrementally iterate the keys space",
            since: "2.8.0",
            group: Group::Generic,
            complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
            history: &[("6.0.0", "Added the `TYPE` subcommand.")],
            arguments: &[
                Arg { name: "cursor", kind: ArgType::Integer, ..Arg::DEFAULT },
                Arg {
                    name: "pattern",
                    kind: ArgType::Pattern,
                    token: Some("MATCH"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "count",
                    kind: ArgType::Integer,
                    token: Some("COUNT"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "type",
                    kind: ArgType::String,
                    token: Some("TYPE"),
                    since: Some("6.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: CommandFlags::READONLY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@keyspace", "@read", "@slow"],
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        request_policy: RequestPolicy::AllShards,
        doc: CommandDoc {
            summary: "Return a random key from the keyspace",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: CommandFlags::WRITE,
        first_key: 1,
        last_key: 2,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@slow"],
        key_specs: &[
            KeySpec {
                notes: None,
                flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::DELETE),
                begin_search: BeginSearch::Index(1),
                find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
            },
            KeySpec {
                notes: None,
                flags: KeySpecFlags::OW.union(KeySpecFlags::UPDATE),
                begin_search: BeginSearch::Index(2),
                find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
            },
        ],
        doc: CommandDoc {
            summary: "Rename a key",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "newkey", kind: ArgType::Key, key_spec_index: Some(1), ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: CommandFlags::WRITE.union(CommandFlags::FAST),
        first_key: 1,
        last_key: 2,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@fast"],
        key_specs: &[
            KeySpec {
                notes: None,
                flags: KeySpecFlags::RW.union(KeySpecFlags::ACCESS).union(KeySpecFlags::DELETE),
                begin_search: BeginSearch::Index(1),
                find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
            },
            KeySpec {
                notes: None,
                flags: KeySpecFlags::OW.union(KeySpecFlags::INSERT),
                begin_search: BeginSearch::Index(2),
                find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
            },
        ],
        doc: CommandDoc {
            summary: "Rename a key, only if the new key does not exist",
            since: "1.0.0",
            group: Group::Generic,
            complexity: "O(1)",
            history: &[(
                "3.2.0",
                "The command no longer returns an error when source and destination names are the same.",
            )],
            arguments: &[
                Arg { name: "key", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "newkey", kind: ArgType::Key, key_spec_index: Some(1), ..Arg::DEFAULT },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: CommandFlags::WRITE.union(CommandFlags::DENYOOM),
        first_key: 1,
        last_key: 2,
        step: 1,
        acl_categories: &["@keyspace", "@write", "@slow"],
        key_specs: &[
            KeySpec {
                notes: None,
                flags: KeySpecFlags::RO.union(KeySpecFlags::ACCESS),
                begin_search: BeginSearch::Index(1),
                find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
            },
            KeySpec {
                notes: None,
                flags: KeySpecFlags::OW.union(KeySpecFlags::UPDATE),
                begin_search: BeginSearch::Index(2),
                find_keys: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 },
            },
        ],
        doc: CommandDoc {
            summary: "Copy a key",
            since: "6.2.0",
            group: Group::Generic,
            complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
            arguments: &[
                Arg { name: "source", kind: ArgType::Key, key_spec_index: Some(0), ..Arg::DEFAULT },
                Arg { name: "destination", kind: ArgType::Key, key_spec_index: Some(1), ..Arg::DEFAULT },
                Arg {
                    name: "destination-db",
                    kind: ArgType::Integer,
                    token: Some("DB"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "replace",
                    kind: ArgType::PureToken,
                    token: Some("REPLACE"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "info",
        arity: -1,
        flags: CommandFlags::LOADING.union(CommandFlags::STALE),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow", "@dangerous"],
        tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        request_policy: RequestPolicy::AllShards,
        response_policy: ResponsePolicy::Special,
        doc: CommandDoc {
            summary: "Get information and statistics about the server",
            since: "1.0.0",
            group: Group::Server,
            complexity: "O(1)",
            history: &[("7.0.0", "Added support for taking multiple section arguments.")],
            arguments: &[Arg {
                name: "section",
                kind: ArgType::String,
                flags: ArgFlags::OPTIONAL.union(ArgFlags::MULTIPLE),
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: CommandFlags::READONLY.union(CommandFlags::FAST),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@keyspace", "@read", "@fast"],
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        request_policy: RequestPolicy::AllShards,
        response_policy: ResponsePolicy::AggSum,
        doc: CommandDoc {
            summary: "Return the number of keys in the selected database",
            since: "1.0.0",
            group: Group::Server,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: CommandFlags::WRITE,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        request_policy: RequestPolicy::AllShards,
        response_policy: ResponsePolicy::AllSucceeded,
        doc: CommandDoc {
            summary: "Remove all keys from the current database",
            since: "1.0.0",
            group: Group::Server,
            complexity: "O(N) where N is the number of keys in the selected database",
            history: &[
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            arguments: &[Arg {
                name: "async",
                kind: ArgType::Oneof,
                flags: ArgFlags::OPTIONAL,
                arguments: &[
                    Arg {
                        name: "async",
                        kind: ArgType::PureToken,
                        token: Some("ASYNC"),
                        since: Some("4.0.0"),
                        ..Arg::DEFAULT
                    },
                    Arg {
                        name: "sync",
                        kind: ArgType::PureToken,
                        token: Some("SYNC"),
                        since: Some("6.2.0"),
                        ..Arg::DEFAULT
                    },
                ],
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: CommandFlags::WRITE,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        request_policy: RequestPolicy::AllShards,
        response_policy: ResponsePolicy::AllSucceeded,
        doc: CommandDoc {
            summary: "Remove all keys from all databases",
            since: "1.0.0",
            group: Group::Server,
            complexity: "O(N) where N is the total number of keys in all databases",
            history: &[
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            arguments: &[Arg {
                name: "async",
                kind: ArgType::Oneof,
                flags: ArgFlags::OPTIONAL,
                arguments: &[
                    Arg {
                        name: "async",
                        kind: ArgType::PureToken,
                        token: Some("ASYNC"),
                        since: Some("4.0.0"),
                        ..Arg::DEFAULT
                    },
                    Arg {
                        name: "sync",
                        kind: ArgType::PureToken,
                        token: Some("SYNC"),
                        since: Some("6.2.0"),
                        ..Arg::DEFAULT
                    },
                ],
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: CommandFlags::LOADING.union(CommandFlags::STALE).union(CommandFlags::FAST),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast"],
        tips: &["nondeterministic_output"],
        doc: CommandDoc {
            summary: "Return the current server time",
            since: "2.6.0",
            group: Group::Server,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config",
        arity: -2,
        flags: CommandFlags::EMPTY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow"],
        subcommands: &[
            CommandSpec {
                name: "config|get",
                arity: -3,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                doc: CommandDoc {
                    summary: "Get the values of configuration parameters",
                    since: "2.0.0",
                    group: Group::Server,
                    complexity: "O(N) when N is the number of configuration parameters provided",
                    history: &[("7.0.0", "Added the ability to pass multiple pattern parameters in one call")],
                    arguments: &[Arg {
                        name: "parameter",
                        kind: ArgType::Block,
                        flags: ArgFlags::MULTIPLE,
                        arguments: &[Arg { name: "parameter", kind: ArgType::String, ..Arg::DEFAULT }],
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "config|set",
                arity: -4,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::AllSucceeded,
                doc: CommandDoc {
                    summary: "Set configuration parameters to the given values",
                    since: "2.0.0",
                    group: Group::Server,
                    complexity: "O(N) when N is the number of configuration parameters provided",
                    history: &[("7.0.0", "Added the ability to set multiple parameters in one call.")],
                    arguments: &[Arg {
                        name: "parameter_value",
                        kind: ArgType::Block,
                        flags: ArgFlags::MULTIPLE,
                        arguments: &[
                            Arg { name: "parameter", kind: ArgType::String, ..Arg::DEFAULT },
                            Arg { name: "value", kind: ArgType::String, ..Arg::DEFAULT },
                        ],
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "config|resetstat",
                arity: 2,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                doc: CommandDoc {
                    summary: "Reset the stats returned by INFO",
                    since: "2.0.0",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
        ],
        doc: CommandDoc {
            summary: "A container for server configuration commands",
            since: "2.0.0",
            group: Group::Server,
            complexity: "Depends on subcommand.",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: CommandFlags::ADMIN
            .union(CommandFlags::NOSCRIPT)
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::NO_MULTI)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@admin", "@slow", "@dangerous"],
        doc: CommandDoc {
            summary: "Synchronously save the dataset to disk and then shut down the server",
            since: "1.0.0",
            group: Group::Server,
            complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
            history: &[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
            arguments: &[
                Arg {
                    name: "nosave_save",
                    kind: ArgType::Oneof,
                    flags: ArgFlags::OPTIONAL,
                    arguments: &[
                        Arg { name: "nosave", kind: ArgType::PureToken, token: Some("NOSAVE"), ..Arg::DEFAULT },
                        Arg { name: "save", kind: ArgType::PureToken, token: Some("SAVE"), ..Arg::DEFAULT },
                    ],
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "now",
                    kind: ArgType::PureToken,
                    token: Some("NOW"),
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "force",
                    kind: ArgType::PureToken,
                    token: Some("FORCE"),
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
                Arg {
                    name: "abort",
                    kind: ArgType::PureToken,
                    token: Some("ABORT"),
                    since: Some("7.0.0"),
                    flags: ArgFlags::OPTIONAL,
                    ..Arg::DEFAULT
                },
            ],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "latency",
        arity: -2,
        flags: CommandFlags::EMPTY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow"],
        subcommands: &[
            CommandSpec {
                name: "latency|histogram",
                arity: -2,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::Special,
                doc: CommandDoc {
                    summary: "Return the cumulative distribution of latencies of a subset of commands or all.",
                    since: "7.0.0",
                    group: Group::Server,
                    complexity: "O(N) where N is the number of commands with latency information being retrieved.",
                    arguments: &[Arg {
                        name: "command",
                        kind: ArgType::String,
                        flags: ArgFlags::OPTIONAL.union(ArgFlags::MULTIPLE),
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "latency|latest",
                arity: 2,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::Special,
                doc: CommandDoc {
                    summary: "Return the latest latency samples for all events.",
                    since: "2.8.13",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "latency|reset",
                arity: -2,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::AllSucceeded,
                doc: CommandDoc {
                    summary: "Reset latency data for one or more events.",
                    since: "2.8.13",
                    group: Group::Server,
                    complexity: "O(1)",
                    arguments: &[Arg {
                        name: "event",
                        kind: ArgType::String,
                        flags: ArgFlags::OPTIONAL.union(ArgFlags::MULTIPLE),
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "latency|doctor",
                arity: 2,
                flags: CommandFlags::ADMIN
                    .union(CommandFlags::NOSCRIPT)
                    .union(CommandFlags::LOADING)
                    .union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::Special,
                doc: CommandDoc {
                    summary: "Return a human readable latency analysis report.",
                    since: "2.8.13",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "latency|help",
                arity: 2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow"],
                doc: CommandDoc {
                    summary: "Show helpful text about the different subcommands.",
                    since: "2.8.13",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
        ],
        doc: CommandDoc {
            summary: "A container for latency diagnostics commands",
            since: "2.8.13",
            group: Group::Server,
            complexity: "Depends on subcommand.",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "slowlog",
        arity: -2,
        flags: CommandFlags::EMPTY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow"],
        subcommands: &[
            CommandSpec {
                name: "slowlog|get",
                arity: -2,
                flags: CommandFlags::ADMIN.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["request_policy:all_nodes", "nondeterministic_output"],
                request_policy: RequestPolicy::AllNodes,
                doc: CommandDoc {
                    summary: "Get the slow log's entries",
                    since: "2.2.12",
                    group: Group::Server,
                    complexity: "O(N) where N is the number of entries returned",
                    history: &[("4.0.0", "Added client IP address, port and name to the reply.")],
                    arguments: &[Arg {
                        name: "count",
                        kind: ArgType::Integer,
                        flags: ArgFlags::OPTIONAL,
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "slowlog|len",
                arity: 2,
                flags: CommandFlags::ADMIN.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::AggSum,
                doc: CommandDoc {
                    summary: "Get the slow log's length",
                    since: "2.2.12",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "slowlog|reset",
                arity: 2,
                flags: CommandFlags::ADMIN.union(CommandFlags::LOADING).union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@admin", "@slow", "@dangerous"],
                tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
                request_policy: RequestPolicy::AllNodes,
                response_policy: ResponsePolicy::AllSucceeded,
                doc: CommandDoc {
                    summary: "Clear all entries from the slow log",
                    since: "2.2.12",
                    group: Group::Server,
                    complexity: "O(N) where N is the number of entries in the slowlog",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "slowlog|help",
                arity: 2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow"],
                doc: CommandDoc {
                    summary: "Show helpful text about the different subcommands",
                    since: "6.2.0",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
        ],
        doc: CommandDoc {
            summary: "A container for slow log commands",
            since: "2.2.12",
            group: Group::Server,
            complexity: "Depends on subcommand.",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: CommandFlags::LOADING.union(CommandFlags::STALE),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow", "@connection"],
        tips: &["nondeterministic_output_order"],
        subcommands: &[
            CommandSpec {
                name: "command|count",
                arity: 2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                doc: CommandDoc {
                    summary: "Get total number of Redis commands",
                    since: "2.8.13",
                    group: Group::Server,
                    complexity: "O(1)",
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "command|info",
                arity: -2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                tips: &["nondeterministic_output_order"],
                doc: CommandDoc {
                    summary: "Get array of specific Redis command details, or all when no argument is given.",
                    since: "2.8.13",
                    group: Group::Server,
                    complexity: "O(N) where N is the number of commands to look up",
                    history: &[("7.0.0", "Allowed to be called with no argument to get info on all commands.")],
                    arguments: &[Arg {
                        name: "command-name",
                        kind: ArgType::String,
                        flags: ArgFlags::OPTIONAL.union(ArgFlags::MULTIPLE),
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "command|docs",
                arity: -2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                tips: &["nondeterministic_output_order"],
                doc: CommandDoc {
                    summary: "Get array of specific Redis command documentation",
                    since: "7.0.0",
                    group: Group::Server,
                    complexity: "O(N) where N is the number of commands to look up",
                    arguments: &[Arg {
                        name: "command-name",
                        kind: ArgType::String,
                        flags: ArgFlags::OPTIONAL.union(ArgFlags::MULTIPLE),
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
            CommandSpec {
                name: "command|list",
                arity: -2,
                flags: CommandFlags::LOADING.union(CommandFlags::STALE),
                first_key: 0,
                last_key: 0,
                step: 0,
                acl_categories: &["@slow", "@connection"],
                tips: &["nondeterministic_output_order"],
                doc: CommandDoc {
                    summary: "Get an array of Redis command names",
                    since: "7.0.0",
                    group: Group::Server,
                    complexity: "O(N) where N is the total number of Redis commands",
                    arguments: &[Arg {
                        name: "filterby",
                        kind: ArgType::Oneof,
                        token: Some("FILTERBY"),
                        flags: ArgFlags::OPTIONAL,
                        arguments: &[
                            Arg { name: "module-name", kind: ArgType::String, token: Some("MODULE"), ..Arg::DEFAULT },
                            Arg { name: "category", kind: ArgType::String, token: Some("ACLCAT"), ..Arg::DEFAULT },
                            Arg { name: "pattern", kind: ArgType::Pattern, token: Some("PATTERN"), ..Arg::DEFAULT },
                        ],
                        ..Arg::DEFAULT
                    }],
                    ..CommandDoc::DEFAULT
                },
                ..CommandSpec::DEFAULT
            },
        ],
        doc: CommandDoc {
            summary: "Get array of Redis command details",
            since: "2.8.13",
            group: Group::Server,
            complexity: "O(N) where N is the total number of Redis commands",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@transaction"],
        doc: CommandDoc {
            summary: "Mark the start of a transaction block",
            since: "1.2.0",
            group: Group::Transactions,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::SKIP_SLOWLOG),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@slow", "@transaction"],
        doc: CommandDoc {
            summary: "Execute all commands issued after MULTI",
            since: "1.2.0",
            group: Group::Transactions,
            complexity: "Depends on commands in the transaction",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@transaction"],
        doc: CommandDoc {
            summary: "Discard all commands issued after MULTI",
            since: "2.0.0",
            group: Group::Transactions,
            complexity: "O(N), when N is the number of queued commands",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 1,
        last_key: -1,
        step: 1,
        acl_categories: &["@fast", "@transaction"],
        key_specs: &[KeySpec {
            notes: None,
            flags: KeySpecFlags::RO,
            begin_search: BeginSearch::Index(1),
            find_keys: FindKeys::Range { last_key: -1, key_step: 1, limit: 0 },
        }],
        doc: CommandDoc {
            summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
            since: "2.2.0",
            group: Group::Transactions,
            complexity: "O(1) for every key.",
            arguments: &[Arg {
                name: "key",
                kind: ArgType::Key,
                key_spec_index: Some(0),
                flags: ArgFlags::MULTIPLE,
                ..Arg::DEFAULT
            }],
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: CommandFlags::NOSCRIPT
            .union(CommandFlags::LOADING)
            .union(CommandFlags::STALE)
            .union(CommandFlags::FAST)
            .union(CommandFlags::ALLOW_BUSY),
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &["@fast", "@transaction"],
        doc: CommandDoc {
            summary: "Forget about all watched keys",
            since: "2.2.0",
            group: Group::Transactions,
            complexity: "O(1)",
            ..CommandDoc::DEFAULT
        },
        ..CommandSpec::DEFAULT
    },
];
