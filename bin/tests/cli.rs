//! The binary's command line: `--help`, and clear errors for a busy port, an unwritable data
//! directory and bad configuration values.

mod common;

use std::process::Command;

use common::TestServer;

fn nokv(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nokv")).args(args).output().expect("run nokv")
}

#[test]
fn help_lists_redis_named_options() {
    let output = nokv(&["--help"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for option in ["--port", "--bind", "--dir", "--requirepass", "--appendfsync", "--maxclients", "--shards"] {
        assert!(text.contains(option), "--help does not mention {option}: {text}");
    }
}

#[test]
fn busy_port_is_a_clear_error() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let output = nokv(&["--port", &server.port.to_string(), "--dir", dir.path().to_str().expect("utf-8")]);
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("already in use"), "{text}");
}

#[test]
fn unwritable_dir_is_a_clear_error() {
    let output = nokv(&["--port", &common::free_port().to_string(), "--dir", "/proc/nokv-cannot-write-here"]);
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("data directory"), "{text}");
}

#[test]
fn bad_values_are_clear_errors() {
    let output = nokv(&["--appendfsync", "sometimes"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("appendfsync"));
    let output = nokv(&["--port", "0"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("port"));
    let output = nokv(&["/nonexistent/nokv.toml"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
}
