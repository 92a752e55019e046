//! The shape of one command table entry: Redis 7's command metadata as plain `const` data.
//!
//! Everything here mirrors a field of Redis's `COMMAND INFO` / `COMMAND DOCS` replies, with the
//! same names and the same order, so the introspection replies are a direct walk over these
//! structs. Flag sets are small bit sets whose name tables are in Redis's reply order.

/// Defines a copyable bit set with named constants, a name table in reply order, and
/// `const fn union` so table entries can combine flags in a `static`.
macro_rules! flag_set {
    ($(#[$meta:meta])* $name:ident : $repr:ty { $($flag:ident = $bit:expr => $text:expr,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
        pub struct $name($repr);

        impl $name {
            /// No flag set.
            pub const EMPTY: Self = Self(0);
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $flag: Self = Self(1 << $bit);
            )*
            /// Every flag with its Redis name, in the order Redis replies with them.
            const NAMES: &'static [(Self, &'static str)] = &[$((Self::$flag, $text),)*];

            /// Both sets combined.
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// Whether every flag of `other` is set.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no flag is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The Redis names of the set flags, in Redis's reply order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                Self::NAMES.iter().filter(move |(flag, _)| self.contains(*flag)).map(|(_, text)| *text)
            }
        }
    };
}

flag_set! {
    /// Command flags (`CMD_*` in Redis's `server.h`); the hidden ones are not represented.
    CommandFlags: u32 {
        WRITE = 0 => "write",
        READONLY = 1 => "readonly",
        DENYOOM = 2 => "denyoom",
        MODULE = 3 => "module",
        ADMIN = 4 => "admin",
        PUBSUB = 5 => "pubsub",
        NOSCRIPT = 6 => "noscript",
        BLOCKING = 7 => "blocking",
        LOADING = 8 => "loading",
        STALE = 9 => "stale",
        SKIP_MONITOR = 10 => "skip_monitor",
        SKIP_SLOWLOG = 11 => "skip_slowlog",
        ASKING = 12 => "asking",
        FAST = 13 => "fast",
        NO_AUTH = 14 => "no_auth",
        NO_MANDATORY_KEYS = 15 => "no_mandatory_keys",
        NO_ASYNC_LOADING = 16 => "no_async_loading",
        NO_MULTI = 17 => "no_multi",
        MOVABLEKEYS = 18 => "movablekeys",
        ALLOW_BUSY = 19 => "allow_busy",
    }
}

flag_set! {
    /// Key specification flags (`CMD_KEY_*`): what the command does with the key.
    KeySpecFlags: u16 {
        RO = 0 => "RO",
        RW = 1 => "RW",
        OW = 2 => "OW",
        RM = 3 => "RM",
        ACCESS = 4 => "access",
        UPDATE = 5 => "update",
        INSERT = 6 => "insert",
        DELETE = 7 => "delete",
        NOT_KEY = 8 => "not_key",
        INCOMPLETE = 9 => "incomplete",
        VARIABLE_FLAGS = 10 => "variable_flags",
    }
}

flag_set! {
    /// Argument flags in `COMMAND DOCS`.
    ArgFlags: u8 {
        OPTIONAL = 0 => "optional",
        MULTIPLE = 1 => "multiple",
        MULTIPLE_TOKEN = 2 => "multiple_token",
    }
}

/// Where a multi-key request goes in a sharded deployment (Redis's `request_policy` tip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RequestPolicy {
    /// Keyless: any one shard; keyed: the shard owning the keys (all in one slot).
    #[default]
    Default,
    /// Every node, including replicas.
    AllNodes,
    /// Every primary shard (DBSIZE, KEYS, FLUSHALL).
    AllShards,
    /// Split the keys by shard and send each shard its part (MGET, MSET, DEL).
    MultiShard,
    /// The command needs its own fan-out logic (SCAN).
    Special,
}

/// How the per-shard replies of a fanned-out request are merged (Redis's `response_policy` tip).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResponsePolicy {
    /// Arrays are concatenated in key order (MGET); a single reply passes through.
    #[default]
    Default,
    /// Succeeds if any shard succeeded.
    OneSucceeded,
    /// Succeeds only if every shard succeeded (MSET, FLUSHALL); otherwise the first error.
    AllSucceeded,
    /// Logical AND of integer replies.
    AggLogicalAnd,
    /// Logical OR of integer replies.
    AggLogicalOr,
    /// Minimum of integer replies.
    AggMin,
    /// Maximum of integer replies.
    AggMax,
    /// Sum of integer replies (DEL, EXISTS, DBSIZE).
    AggSum,
    /// The command merges its own replies (INFO, RANDOMKEY, SCAN).
    Special,
}

/// Where a key specification starts looking for keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index (the command name is index 0).
    Index(i32),
    /// After the first occurrence of `keyword`, searching from `start_from` (negative: from the end).
    Keyword { keyword: &'static str, start_from: i32 },
    /// Keys cannot be found from the arguments alone.
    Unknown,
}

/// How a key specification finds its keys once it has begun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// `last_key` relative to the begin index (negative: from the end), every `key_step`-th
    /// argument; `limit` > 1 divides the remaining arguments when `last_key` is -1.
    Range { last_key: i32, key_step: i32, limit: i32 },
    /// The key count is at `key_num_index` (relative), keys start at `first_key` (relative).
    KeyNum { key_num_index: i32, first_key: i32, key_step: i32 },
    /// Keys cannot be found from the arguments alone.
    Unknown,
}

/// One Redis 7 key specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Why the flags are what they are, when that is not obvious.
    pub notes: Option<&'static str>,
    pub flags: KeySpecFlags,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// The documentation group of a command (`COMMAND DOCS` `group`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Group {
    #[default]
    Generic,
    String,
    Connection,
    Server,
    Transactions,
}

impl Group {
    /// The name Redis replies with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::String => "string",
            Self::Connection => "connection",
            Self::Server => "server",
            Self::Transactions => "transactions",
        }
    }
}

/// An argument's type in `COMMAND DOCS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArgType {
    #[default]
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    Oneof,
    Block,
}

impl ArgType {
    /// The name Redis replies with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Double => "double",
            Self::Key => "key",
            Self::Pattern => "pattern",
            Self::UnixTime => "unix-time",
            Self::PureToken => "pure-token",
            Self::Oneof => "oneof",
            Self::Block => "block",
        }
    }
}

/// One documented argument; `Oneof` and `Block` arguments nest `arguments`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    pub key_spec_index: Option<u32>,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: ArgFlags,
    pub arguments: &'static [Arg],
}

impl Arg {
    /// The base for struct-update syntax in the table.
    pub const DEFAULT: Arg = Arg {
        name: "",
        kind: ArgType::String,
        key_spec_index: None,
        token: None,
        summary: None,
        since: None,
        deprecated_since: None,
        flags: ArgFlags::EMPTY,
        arguments: &[],
    };
}

/// A command's documentation (`COMMAND DOCS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandDoc {
    pub summary: &'static str,
    pub since: &'static str,
    pub group: Group,
    pub complexity: &'static str,
    /// `deprecated` and/or `syscmd`.
    pub doc_flags: &'static [&'static str],
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    /// `(version, what changed)`, oldest first.
    pub history: &'static [(&'static str, &'static str)],
    pub arguments: &'static [Arg],
}

impl CommandDoc {
    /// The base for struct-update syntax in the table.
    pub const DEFAULT: CommandDoc = CommandDoc {
        summary: "",
        since: "",
        group: Group::Generic,
        complexity: "",
        doc_flags: &[],
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        arguments: &[],
    };
}

/// One command (or subcommand, named `container|sub`) and everything known about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// Lower case; a subcommand's name is its full name, `client|id`.
    pub name: &'static str,
    /// Positive: exactly this many arguments including the name; negative: at least |arity|.
    pub arity: i32,
    pub flags: CommandFlags,
    /// Legacy key range: 1-based index of the first key, 0 when keyless.
    pub first_key: i32,
    /// Index of the last key; negative counts from the end (-1 = last argument).
    pub last_key: i32,
    /// Distance between keys (2 for MSET's key/value pairs).
    pub step: i32,
    /// With the leading `@`, in Redis's reply order.
    pub acl_categories: &'static [&'static str],
    /// Redis's command tips, verbatim; the policies below are their typed form.
    pub tips: &'static [&'static str],
    pub request_policy: RequestPolicy,
    pub response_policy: ResponsePolicy,
    pub key_specs: &'static [KeySpec],
    pub subcommands: &'static [CommandSpec],
    pub doc: CommandDoc,
}

impl CommandSpec {
    /// The base for struct-update syntax in the table.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 0,
        flags: CommandFlags::EMPTY,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl_categories: &[],
        tips: &[],
        request_policy: RequestPolicy::Default,
        response_policy: ResponsePolicy::Default,
        key_specs: &[],
        subcommands: &[],
        doc: CommandDoc::DEFAULT,
    };

    /// Whether this is a container (CLIENT, CONFIG, ...) dispatching on its first argument.
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// The name used in error replies: the full name, `client|setname` for a subcommand.
    pub fn full_name(&self) -> &'static str {
        self.name
    }

    /// Whether the command modifies the keyspace.
    pub fn is_write(&self) -> bool {
        self.flags.contains(CommandFlags::WRITE)
    }

    /// Whether the command only reads.
    pub fn is_readonly(&self) -> bool {
        self.flags.contains(CommandFlags::READONLY)
    }
}
