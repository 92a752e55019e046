//! Error replies: the exact texts Redis 7 sends, in one place.
//!
//! Clients and test suites match these strings (redis-py checks prefixes, redis-rs maps codes
//! to kinds), so each text is copied from Redis's source, including its spacing and
//! punctuation. Build replies with [`Reply::error_static`] or the functions below; never write
//! an error text inline in a command. (The crate's Rust error type is [`crate::error::Error`].)

use crate::frame::Reply;

/// Type mismatch between a command and the key's value.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// An argument or stored value is not a 64-bit integer.
pub const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";
/// An argument or stored value is not a finite double.
pub const NOT_A_FLOAT: &str = "ERR value is not a valid float";
/// Options that do not parse.
pub const SYNTAX: &str = "ERR syntax error";
/// RENAME and friends on a missing key.
pub const NO_SUCH_KEY: &str = "ERR no such key";
/// INCR family past `i64` bounds.
pub const INCR_OVERFLOW: &str = "ERR increment or decrement would overflow";
/// INCRBYFLOAT producing NaN or infinity.
pub const INCR_FLOAT_NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
/// SETRANGE/APPEND past `proto-max-bulk-len`.
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// SETRANGE with a negative offset.
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
/// SCAN with a cursor that is not an unsigned integer.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
/// SELECT of a database that does not exist (NoKV has only database 0).
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
/// A command before AUTH on a server with a password.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// AUTH with a wrong password.
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
/// AUTH on a server without a password.
pub const AUTH_WITHOUT_PASSWORD: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
/// HELLO with a protocol version other than 2 or 3.
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
/// HELLO with a non-integer protocol version.
pub const PROTOCOL_VERSION_NOT_INTEGER: &str = "ERR Protocol version is not an integer or out of range";
/// CLIENT SETNAME with a space or a control character.
pub const CLIENT_NAME_INVALID: &str = "ERR Client names cannot contain spaces, newlines or special characters.";
/// CLIENT KILL matching nobody (old form).
pub const NO_SUCH_CLIENT: &str = "ERR No such client";
/// EXEC outside MULTI.
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
/// DISCARD outside MULTI.
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
/// MULTI inside MULTI.
pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
/// WATCH inside MULTI.
pub const WATCH_INSIDE_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
/// EXEC after a queued command was rejected.
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
/// EXPIRE with NX together with XX, GT or LT.
pub const EXPIRE_NX_AND_OTHERS: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
/// EXPIRE with both GT and LT.
pub const EXPIRE_GT_AND_LT: &str = "ERR GT and LT options at the same time are not compatible";
/// An unknown CONFIG parameter in CONFIG SET.
pub const CONFIG_SET_UNKNOWN_PREFIX: &str = "ERR Unknown option or number of arguments for CONFIG SET - ";

/// Redis prints names with `%.128s`: at most 128 bytes, and nothing from a NUL byte on.
const PRINTED_NAME_MAX_BYTES: usize = 128;

fn c_string_prefix(bytes: &[u8], max_bytes: usize) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end.min(max_bytes)]
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` (each argument quoted and
/// followed by a space, the list cut near 128 bytes), as Redis's `processCommand` writes it.
pub fn unknown_command(args: &[bytes::Bytes]) -> Reply {
    let mut text = b"ERR unknown command '".to_vec();
    if let Some(name) = args.first() {
        text.extend_from_slice(c_string_prefix(name, PRINTED_NAME_MAX_BYTES));
    }
    text.extend_from_slice(b"', with args beginning with: ");
    let mut listed = Vec::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= PRINTED_NAME_MAX_BYTES {
            break;
        }
        let room = PRINTED_NAME_MAX_BYTES - listed.len();
        listed.push(b'\'');
        listed.extend_from_slice(c_string_prefix(arg, room));
        listed.extend_from_slice(b"' ");
    }
    text.extend_from_slice(&listed);
    Reply::Error(text.into())
}

/// `ERR unknown subcommand 'x'. Try CLIENT HELP.`
pub fn unknown_subcommand(container: &str, subcommand: &[u8]) -> Reply {
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(c_string_prefix(subcommand, PRINTED_NAME_MAX_BYTES));
    text.extend_from_slice(format!("'. Try {} HELP.", container.to_ascii_uppercase()).as_bytes());
    Reply::Error(text.into())
}

/// `ERR wrong number of arguments for 'get' command`; `full_name` is lower case, with `|` for
/// a subcommand (`client|setname`).
pub fn wrong_number_of_arguments(full_name: &str) -> Reply {
    Reply::error(format!("ERR wrong number of arguments for '{full_name}' command"))
}

/// `ERR invalid expire time in 'set' command`.
pub fn invalid_expire_time(command: &str) -> Reply {
    Reply::error(format!("ERR invalid expire time in '{command}' command"))
}

/// `ERR Unknown option or number of arguments for CONFIG SET - 'name'`.
pub fn config_set_unknown(parameter: &[u8]) -> Reply {
    let mut text = CONFIG_SET_UNKNOWN_PREFIX.as_bytes().to_vec();
    text.push(b'\'');
    text.extend_from_slice(parameter);
    text.push(b'\'');
    Reply::Error(text.into())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::frame::Protocol;

    fn wire(reply: Reply) -> String {
        String::from_utf8(reply.to_bytes(Protocol::Resp2).to_vec()).expect("ascii")
    }

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    #[test]
    fn unknown_command_lists_args_with_a_trailing_space() {
        assert_eq!(
            wire(unknown_command(&args(&["foo", "a", "b"]))),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        );
        assert_eq!(
            wire(unknown_command(&args(&["foo"]))),
            "-ERR unknown command 'foo', with args beginning with: \r\n"
        );
    }

    #[test]
    fn unknown_command_cuts_long_argument_lists_like_redis() {
        let long = "x".repeat(200);
        let reply = wire(unknown_command(&args(&["foo", &long, "next"])));
        assert_eq!(reply, format!("-ERR unknown command 'foo', with args beginning with: '{}' \r\n", "x".repeat(128)));
        let reply = wire(unknown_command(&args(&["foo", &"y".repeat(120), "abcdefghijkl"])));
        assert_eq!(
            reply,
            format!("-ERR unknown command 'foo', with args beginning with: '{}' 'abcde' \r\n", "y".repeat(120))
        );
    }

    #[test]
    fn unknown_subcommand_names_the_container_in_upper_case() {
        assert_eq!(wire(unknown_subcommand("client", b"nope")), "-ERR unknown subcommand 'nope'. Try CLIENT HELP.\r\n");
    }

    #[test]
    fn wrong_arity_uses_the_full_name() {
        assert_eq!(wire(wrong_number_of_arguments("get")), "-ERR wrong number of arguments for 'get' command\r\n");
    }
}
