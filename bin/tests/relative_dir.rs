//! The server starts with a relative data directory, as the README's `cargo run` does with the
//! default `./nokv-data`. (Directory syncs once failed with EBADF on relative paths: glommio
//! opens directories with `openat(-1, ..)`.)

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_relative_data_directory_works() {
    let temp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nokv"))
        .current_dir(temp.path())
        .args(["--port", &port.to_string(), "--dir", "data", "--shards", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nokv");
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client");
    let started = Instant::now();
    let mut con = loop {
        if let Ok(con) = client.get_connection() {
            break con;
        }
        assert!(child.try_wait().expect("poll").is_none(), "nokv exited at start-up");
        assert!(started.elapsed() < Duration::from_secs(30), "nokv did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).expect("SET");
    let value: String = redis::cmd("GET").arg("k").query(&mut con).expect("GET");
    assert_eq!(value, "v");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(temp.path().join("data").is_dir(), "the data directory is relative to the working directory");
}
