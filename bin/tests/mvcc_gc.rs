//! MVCC GC on a running server: with a short `gc-life-time`, every shard publishes a safe point
//! a little behind the clock (INFO `shards`, `mvcc_gc_safe_point`), overwritten keys still read
//! their newest value, and `CONFIG GET gc-life-time` reports the option; with 0 GC stays off.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::TestServer;

/// How long a shard may take to publish its first safe point (the period is the life time).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(15);

/// `mvcc_gc_safe_point` of every shard line of INFO shards.
fn safe_points(con: &mut redis::Connection) -> Vec<u64> {
    let text: String = redis::cmd("INFO").arg("shards").query(con).expect("INFO");
    text.lines()
        .filter(|line| line.starts_with("shard") && line.contains(':') && !line.starts_with("shards:"))
        .map(|line| {
            let field = line.split(',').find_map(|kv| kv.strip_prefix("mvcc_gc_safe_point=")).expect("field");
            field.parse().expect("numeric")
        })
        .collect()
}

fn physical_ms(ts: u64) -> u64 {
    ts >> 18
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as u64
}

#[test]
fn shards_publish_a_safe_point_behind_the_clock_and_reads_stay_correct() {
    let server = TestServer::start_with(&["--gc-life-time", "1"]);
    let mut con = server.client();
    let life: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("gc-life-time").query(&mut con).expect("CONFIG");
    assert_eq!(life, ["gc-life-time", "1"]);
    for round in 0..200 {
        let _: () = redis::cmd("SET").arg("k").arg(format!("value-{round}")).query(&mut con).expect("SET");
    }
    let started = Instant::now();
    let published = loop {
        let points = safe_points(&mut con);
        assert_eq!(points.len(), 2, "one line per shard");
        if points.iter().all(|&p| p > 0) {
            break points;
        }
        assert!(started.elapsed() < PUBLISH_TIMEOUT, "no safe point after {PUBLISH_TIMEOUT:?}: {points:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    for point in published {
        assert!(physical_ms(point) + 1000 <= now_ms(), "at least the life time behind the clock");
    }
    let value: String = redis::cmd("GET").arg("k").query(&mut con).expect("GET");
    assert_eq!(value, "value-199");
}

#[test]
fn a_life_time_of_zero_turns_gc_off() {
    let server = TestServer::start_with(&["--gc-life-time", "0"]);
    let mut con = server.client();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).expect("SET");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(safe_points(&mut con), [0, 0]);
}
