//! The `COMMAND` family of replies, generated from the table in Redis 7.0's exact layout.
//!
//! ```text
//! COMMAND INFO entry (array of 10):
//!   name  arity  flags(set)  first_key  last_key  step  acl_categories(set)  tips(set)
//!   key_specs(set of maps)  subcommands(set of entries)
//! COMMAND DOCS entry (map): summary since group complexity [doc_flags] [deprecated_since]
//!   [replaced_by] [history] [arguments] [subcommands]
//! ```
//!
//! Flags, ACL categories and doc flags are simple strings; names, tips and every doc text are
//! bulk strings; sets and maps downgrade to arrays on RESP2 through [`Reply::encode`].

use bytes::Bytes;

use super::CommandTable;
use super::spec::{Arg, BeginSearch, CommandDoc, CommandSpec, FindKeys, KeySpec};
use crate::frame::Reply;

fn bulk(text: &'static str) -> Reply {
    Reply::bulk_static(text)
}

fn status_set(names: impl Iterator<Item = &'static str>) -> Reply {
    Reply::Set(names.map(Reply::simple).collect())
}

fn entry(key: &'static str, value: Reply) -> (Reply, Reply) {
    (bulk(key), value)
}

/// `COMMAND` and `COMMAND INFO` with no names: every command's entry.
pub fn command_all(table: &CommandTable) -> Reply {
    Reply::Array(table.commands().iter().map(command_info).collect())
}

/// `COMMAND COUNT`.
pub fn command_count(table: &CommandTable) -> Reply {
    Reply::Integer(i64::try_from(table.len()).expect("the table is small"))
}

/// `COMMAND INFO name...`: one entry per name, a null for an unknown name; no names means all.
pub fn command_info_reply(table: &CommandTable, names: &[Bytes]) -> Reply {
    if names.is_empty() {
        return command_all(table);
    }
    let entries = names.iter().map(|name| table.get_full(name).map_or(Reply::Null, command_info));
    Reply::Array(entries.collect())
}

/// One command's `COMMAND INFO` entry.
pub fn command_info(spec: &CommandSpec) -> Reply {
    Reply::Array(vec![
        bulk(spec.name),
        Reply::Integer(spec.arity.into()),
        status_set(spec.flags.names()),
        Reply::Integer(spec.first_key.into()),
        Reply::Integer(spec.last_key.into()),
        Reply::Integer(spec.step.into()),
        status_set(spec.acl_categories.iter().copied()),
        Reply::Set(spec.tips.iter().map(|tip| bulk(tip)).collect()),
        // Redis 7.0 replies with these two as sets, not arrays.
        Reply::Set(spec.key_specs.iter().map(key_spec).collect()),
        Reply::Set(spec.subcommands.iter().map(command_info).collect()),
    ])
}

fn key_spec(spec: &KeySpec) -> Reply {
    let mut fields = Vec::with_capacity(4);
    if let Some(notes) = spec.notes {
        fields.push(entry("notes", bulk(notes)));
    }
    fields.push(entry("flags", status_set(spec.flags.names())));
    fields.push(entry("begin_search", begin_search(&spec.begin_search)));
    fields.push(entry("find_keys", find_keys(&spec.find_keys)));
    Reply::Map(fields)
}

fn typed_spec(kind: &'static str, fields: Vec<(Reply, Reply)>) -> Reply {
    Reply::Map(vec![entry("type", bulk(kind)), entry("spec", Reply::Map(fields))])
}

fn begin_search(search: &BeginSearch) -> Reply {
    match *search {
        BeginSearch::Index(index) => typed_spec("index", vec![entry("index", Reply::Integer(index.into()))]),
        BeginSearch::Keyword { keyword, start_from } => typed_spec(
            "keyword",
            vec![entry("keyword", bulk(keyword)), entry("startfrom", Reply::Integer(start_from.into()))],
        ),
        BeginSearch::Unknown => typed_spec("unknown", Vec::new()),
    }
}

fn find_keys(find: &FindKeys) -> Reply {
    match *find {
        FindKeys::Range { last_key, key_step, limit } => typed_spec(
            "range",
            vec![
                entry("lastkey", Reply::Integer(last_key.into())),
                entry("keystep", Reply::Integer(key_step.into())),
                entry("limit", Reply::Integer(limit.into())),
            ],
        ),
        FindKeys::KeyNum { key_num_index, first_key, key_step } => typed_spec(
            "keynum",
            vec![
                entry("keynumidx", Reply::Integer(key_num_index.into())),
                entry("firstkey", Reply::Integer(first_key.into())),
                entry("keystep", Reply::Integer(key_step.into())),
            ],
        ),
        FindKeys::Unknown => typed_spec("unknown", Vec::new()),
    }
}

/// `COMMAND DOCS name...`: a map from name to docs; unknown names are left out; no names
/// means every command.
pub fn command_docs_reply(table: &CommandTable, names: &[Bytes]) -> Reply {
    let specs: Vec<&CommandSpec> = if names.is_empty() {
        table.commands().iter().collect()
    } else {
        names.iter().filter_map(|name| table.get_full(name)).collect()
    };
    Reply::Map(specs.into_iter().map(|spec| (bulk(spec.name), command_docs(spec))).collect())
}

/// One command's `COMMAND DOCS` map.
pub fn command_docs(spec: &CommandSpec) -> Reply {
    let doc = &spec.doc;
    let mut fields = vec![
        entry("summary", bulk(doc.summary)),
        entry("since", bulk(doc.since)),
        entry("group", bulk(doc.group.as_str())),
        entry("complexity", bulk(doc.complexity)),
    ];
    push_deprecation(doc, &mut fields);
    if !doc.history.is_empty() {
        let history = doc.history.iter().map(|(version, change)| Reply::Array(vec![bulk(version), bulk(change)]));
        fields.push(entry("history", Reply::Set(history.collect())));
    }
    if !doc.arguments.is_empty() {
        fields.push(entry("arguments", arguments(doc.arguments)));
    }
    if spec.is_container() {
        let subcommands = spec.subcommands.iter().map(|sub| (bulk(sub.name), command_docs(sub)));
        fields.push(entry("subcommands", Reply::Map(subcommands.collect())));
    }
    Reply::Map(fields)
}

fn push_deprecation(doc: &CommandDoc, fields: &mut Vec<(Reply, Reply)>) {
    if !doc.doc_flags.is_empty() {
        fields.push(entry("doc_flags", status_set(doc.doc_flags.iter().copied())));
    }
    if let Some(version) = doc.deprecated_since {
        fields.push(entry("deprecated_since", bulk(version)));
    }
    if let Some(replacement) = doc.replaced_by {
        fields.push(entry("replaced_by", bulk(replacement)));
    }
}

fn arguments(args: &[Arg]) -> Reply {
    Reply::Array(args.iter().map(argument).collect())
}

fn argument(arg: &Arg) -> Reply {
    let mut fields = vec![entry("name", bulk(arg.name)), entry("type", bulk(arg.kind.as_str()))];
    if let Some(index) = arg.key_spec_index {
        fields.push(entry("key_spec_index", Reply::Integer(index.into())));
    }
    let optional_texts = [
        ("token", arg.token),
        ("summary", arg.summary),
        ("since", arg.since),
        ("deprecated_since", arg.deprecated_since),
    ];
    for (key, text) in optional_texts {
        if let Some(text) = text {
            fields.push(entry(key, bulk(text)));
        }
    }
    if !arg.flags.is_empty() {
        fields.push(entry("flags", status_set(arg.flags.names())));
    }
    if !arg.arguments.is_empty() {
        fields.push(entry("arguments", arguments(arg.arguments)));
    }
    Reply::Map(fields)
}

/// `COMMAND LIST [FILTERBY ACLCAT category]`: every command and subcommand name
/// (`config|get`), optionally only those in an ACL category (given without the `@`).
pub fn command_list(table: &CommandTable, acl_category: Option<&[u8]>) -> Reply {
    let in_category = |spec: &CommandSpec| match acl_category {
        None => true,
        Some(wanted) => spec.acl_categories.iter().any(|cat| cat.as_bytes()[1..].eq_ignore_ascii_case(wanted)),
    };
    let names = table
        .commands()
        .iter()
        .flat_map(|spec| std::iter::once(spec).chain(spec.subcommands.iter()))
        .filter(|spec| in_category(spec))
        .map(|spec| bulk(spec.name));
    Reply::Array(names.collect())
}
