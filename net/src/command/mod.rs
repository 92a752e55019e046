//! The command table: the single source of truth for what each command is.
//!
//! Every command NoKV serves has one [`CommandSpec`] in [`table::COMMANDS`] carrying Redis 7's
//! metadata: arity, flags, legacy key range, key specs, ACL categories, tips and their typed
//! request/response policies, and the documentation behind `COMMAND DOCS`. Dispatch
//! ([`CommandTable::resolve`]), arity checks, routing ([`key_positions`]) and the `COMMAND`
//! family of replies ([`introspection`]) all read it; nothing else lists commands.
//!
//! Invariants (checked by tests): names are lower case and unique; a subcommand's name is
//! `container|sub`; a container has arity -2 and no keys; every legacy key range lies within
//! the minimum arity.

pub mod introspection;
pub mod spec;
pub mod table;

use std::collections::HashMap;
use std::iter::StepBy;
use std::ops::Range;

use bytes::Bytes;

use crate::errors;
use crate::frame::Reply;
pub use spec::{
    Arg, ArgFlags, ArgType, BeginSearch, CommandDoc, CommandFlags, CommandSpec, FindKeys, Group, KeySpec, KeySpecFlags,
    RequestPolicy, ResponsePolicy,
};

/// Longest command name looked up; longer names are unknown without hashing them.
const MAX_NAME_BYTES: usize = 64;

/// Case-insensitive lookup over a static list of commands.
#[derive(Debug)]
pub struct CommandTable {
    commands: &'static [CommandSpec],
    /// foldhash, not SipHash: the table is fixed at start (lookups cannot grow it, so no
    /// flooding concern), and SipHash of the name was 1.8% of GET 16 B -P16's samples.
    by_name: HashMap<&'static [u8], &'static CommandSpec, foldhash::fast::FixedState>,
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandTable {
    /// The table of every command NoKV serves.
    pub fn new() -> Self {
        Self::from_specs(table::COMMANDS)
    }

    /// A table over `commands` (tests use small tables).
    pub fn from_specs(commands: &'static [CommandSpec]) -> Self {
        let by_name = commands.iter().map(|spec| (spec.name.as_bytes(), spec)).collect();
        Self { commands, by_name }
    }

    /// The top-level commands, in `COMMAND` reply order.
    pub fn commands(&self) -> &'static [CommandSpec] {
        self.commands
    }

    /// How many top-level commands there are (`COMMAND COUNT`).
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether the table has no command.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// The top-level command called `name`, in any letter case.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > MAX_NAME_BYTES {
            return None;
        }
        let mut lower = [0u8; MAX_NAME_BYTES];
        let lower = &mut lower[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).copied()
    }

    /// A command by its full name: `get`, or `client|id` for a subcommand (as `COMMAND INFO`
    /// and `COMMAND DOCS` accept them).
    pub fn get_full(&self, full_name: &[u8]) -> Option<&'static CommandSpec> {
        match full_name.iter().position(|&b| b == b'|') {
            None => self.get(full_name),
            Some(bar) => subcommand(self.get(&full_name[..bar])?, &full_name[bar + 1..]),
        }
    }

    /// Redis's dispatch-time lookup: the command (or subcommand) a request names, with its
    /// arity checked; otherwise the exact error Redis replies with.
    pub fn resolve(&self, args: &[Bytes]) -> Result<&'static CommandSpec, Reply> {
        let name = args.first().ok_or_else(|| errors::unknown_command(args))?;
        let base = self.get(name).ok_or_else(|| errors::unknown_command(args))?;
        let spec = match args.get(1) {
            Some(sub) if base.is_container() => {
                subcommand(base, sub).ok_or_else(|| errors::unknown_subcommand(base.name, sub))?
            }
            _ => base,
        };
        if !arity_ok(spec, args.len()) {
            return Err(errors::wrong_number_of_arguments(spec.full_name()));
        }
        Ok(spec)
    }
}

/// The subcommand `name` (any letter case, without the container prefix) of `container`.
pub fn subcommand(container: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    let prefix_len = container.name.len() + 1;
    container.subcommands.iter().find(|sub| sub.name.as_bytes()[prefix_len..].eq_ignore_ascii_case(name))
}

/// Whether `argc` arguments (the name included) satisfy the spec's arity.
pub fn arity_ok(spec: &CommandSpec, argc: usize) -> bool {
    let required = spec.arity.unsigned_abs() as usize;
    if spec.arity >= 0 { argc == required } else { argc >= required }
}

/// Indexes into `args` of the keys a request touches, from the spec's legacy key range
/// (`first_key`, `last_key`, `step`), as Redis's `getKeysUsingLegacyRangeSpec` computes them.
/// Like Redis, a range that runs past the arguments yields no keys: the command then replies
/// with its own arity or syntax error.
pub fn key_positions<T>(spec: &CommandSpec, args: &[T]) -> impl Iterator<Item = usize> + use<T> {
    legacy_key_range(spec, args.len())
}

fn legacy_key_range(spec: &CommandSpec, argc: usize) -> StepBy<Range<usize>> {
    let none = (0..0).step_by(1);
    if spec.first_key <= 0 || spec.step <= 0 {
        return none;
    }
    let argc_signed = argc as i64;
    let last = if spec.last_key < 0 { argc_signed + i64::from(spec.last_key) } else { i64::from(spec.last_key) };
    let first = i64::from(spec.first_key);
    if last < first || last >= argc_signed {
        return none;
    }
    let step = spec.step as usize;
    // Keys are first, first + step, ...; each must exist (MSET with a dangling key is refused
    // by the command, not here).
    let end = last as usize + 1;
    (first as usize..end).step_by(step)
}
