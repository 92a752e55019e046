use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use bytes::BytesMut;
use futures_lite::future::block_on;

use super::*;
use crate::command::CommandTable;
use crate::frame::Protocol;
use crate::handler::MultiState;
use crate::server::{
    ClientRegistry, DEFAULT_WRITE_THRESHOLD_BYTES, LiveSettings, OutputBufferLimit, ServerConfig, ServerStats,
};

/// Echoes each request's name back, records the batches it was given, and implements just
/// enough session commands to drive the server's logic.
#[derive(Default)]
struct Recorder {
    batches: RefCell<Vec<Vec<String>>>,
    password: Option<&'static str>,
    drop_a_reply: Cell<bool>,
}

impl Handler for Recorder {
    async fn call_batch(&self, conn: &mut ConnectionState, requests: Vec<Request>) -> Vec<Reply> {
        self.batches.borrow_mut().push(requests.iter().map(|r| r.name().to_owned()).collect());
        let mut replies: Vec<Reply> = requests.iter().map(|request| self.reply(conn, request)).collect();
        if self.drop_a_reply.get() {
            replies.pop();
        }
        replies
    }

    fn requires_auth(&self) -> bool {
        self.password.is_some()
    }
}

impl Recorder {
    fn reply(&self, conn: &mut ConnectionState, request: &Request) -> Reply {
        match request.name() {
            "auth" => {
                conn.authenticated = Some(&request.args[1][..]) == self.password.map(str::as_bytes);
                if conn.authenticated { Reply::ok() } else { Reply::error_static(errors::WRONGPASS) }
            }
            "hello" => {
                conn.protocol = Protocol::Resp3;
                Reply::Map(vec![(Reply::bulk("proto"), Reply::Integer(3))])
            }
            "multi" => {
                conn.multi = Some(MultiState::default());
                Reply::ok()
            }
            "client|kill" => {
                conn.kill_requested = true;
                Reply::ok()
            }
            "echo" => Reply::Bulk(request.args[1].clone()),
            name => Reply::bulk(name),
        }
    }
}

fn session(handler: Recorder) -> (Session<Recorder>, Rc<Shared<Recorder>>) {
    let shared = Rc::new(Shared {
        config: ServerConfig::default(),
        handler: Rc::new(handler),
        table: Rc::new(CommandTable::new()),
        registry: Rc::new(ClientRegistry::new(0, 1)),
        stats: Rc::new(ServerStats::default()),
        client_count: Arc::new(AtomicUsize::new(0)),
        settings: Arc::new(LiveSettings::new(&ServerConfig::default())),
        readiness: None,
        idle_ticks: Rc::default(),
    });
    (Session::new(shared.clone(), ConnectionState::new(1)), shared)
}

/// Feeds `input` as one read; returns the flow, the bytes written and what stays buffered.
fn feed(session: &mut Session<Recorder>, input: &str) -> (Flow, String, String) {
    let mut buf = BytesMut::from(input.as_bytes());
    let mut out = BytesMut::new();
    let flow = block_on(session.process(&mut buf, &mut out));
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).expect("ascii in tests");
    (flow, text(&out), text(&buf))
}

fn batches(shared: &Shared<Recorder>) -> Vec<Vec<String>> {
    shared.handler.batches.borrow().clone()
}

#[test]
fn a_pipeline_is_one_batch_with_replies_in_order() {
    let (mut session, shared) = session(Recorder::default());
    let (flow, out, rest) =
        feed(&mut session, "*1\r\n$4\r\nPING\r\nGET k\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*1\r\n$3\r\nGE");
    assert_eq!(flow, Flow::Continue);
    assert_eq!(out, "$4\r\nping\r\n$3\r\nget\r\n$3\r\ndel\r\n");
    assert_eq!(rest, "*1\r\n$3\r\nGE", "an incomplete request waits for the next read");
    assert_eq!(batches(&shared), [vec!["ping", "get", "del"]]);
    assert_eq!(shared.stats.snapshot().commands_processed, 3);
}

#[test]
fn session_commands_run_alone_and_their_protocol_applies_to_their_own_reply() {
    let (mut session, shared) = session(Recorder::default());
    let (_, out, _) = feed(&mut session, "PING\r\nPING\r\nHELLO 3\r\nCLIENT ID\r\nPING\r\n");
    assert_eq!(batches(&shared), [vec!["ping", "ping"], vec!["hello"], vec!["client|id"], vec!["ping"]]);
    assert_eq!(out, "$4\r\nping\r\n$4\r\nping\r\n%1\r\n$5\r\nproto\r\n:3\r\n$9\r\nclient|id\r\n$4\r\nping\r\n");
}

#[test]
fn refused_requests_are_answered_in_place_with_redis_texts() {
    let (mut session, shared) = session(Recorder::default());
    let (flow, out, _) = feed(&mut session, "PING\r\nNOPE a b\r\nGET\r\nCLIENT NOPE\r\nPING\r\n");
    assert_eq!(flow, Flow::Continue);
    assert_eq!(
        out,
        "$4\r\nping\r\n\
         -ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n\
         -ERR wrong number of arguments for 'get' command\r\n\
         -ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n\
         $4\r\nping\r\n"
    );
    assert_eq!(batches(&shared), [vec!["ping"], vec!["ping"]]);
    assert_eq!(shared.stats.snapshot().error_replies, 3);
}

#[test]
fn a_refused_request_inside_multi_aborts_the_transaction() {
    let (mut session, _) = session(Recorder::default());
    feed(&mut session, "MULTI\r\nNOPE\r\n");
    assert!(session.conn.multi.as_ref().is_some_and(|multi| multi.aborted));
}

#[test]
fn without_auth_only_no_auth_commands_run_and_auth_unlocks_the_rest_of_the_read() {
    let (mut session, shared) = session(Recorder { password: Some("pw"), ..Recorder::default() });
    let (_, out, _) = feed(&mut session, "GET k\r\nNOPE\r\nAUTH bad\r\nAUTH pw\r\nGET k\r\nSET k v\r\n");
    assert_eq!(
        out,
        "-NOAUTH Authentication required.\r\n\
         -ERR unknown command 'NOPE', with args beginning with: \r\n\
         -WRONGPASS invalid username-password pair or user is disabled.\r\n\
         +OK\r\n$3\r\nget\r\n$3\r\nset\r\n"
    );
    assert_eq!(batches(&shared), [vec!["auth"], vec!["auth"], vec!["get", "set"]]);
}

#[test]
fn before_auth_the_parser_refuses_large_requests() {
    let (mut session, _) = session(Recorder { password: Some("pw"), ..Recorder::default() });
    let many_args = format!("*11\r\n{}", "$1\r\nx\r\n".repeat(11));
    let (flow, out, _) = feed(&mut session, &many_args);
    assert_eq!(flow, Flow::Close);
    assert_eq!(out, "-ERR Protocol error: unauthenticated multibulk length\r\n");
}

#[test]
fn a_protocol_error_follows_the_replies_before_it_and_closes() {
    let (mut session, shared) = session(Recorder::default());
    let (flow, out, _) = feed(&mut session, "PING\r\nGET k\r\n*1\r\n$-5\r\n\r\nPING\r\n");
    assert_eq!(flow, Flow::Close);
    assert_eq!(out, "$4\r\nping\r\n$3\r\nget\r\n-ERR Protocol error: invalid bulk length\r\n");
    assert_eq!(batches(&shared), [vec!["ping", "get"]]);
}

#[test]
fn quit_replies_ok_closes_and_runs_nothing_after_it() {
    let (mut session, shared) = session(Recorder::default());
    let (flow, out, _) = feed(&mut session, "PING\r\nQUIT\r\nPING\r\n");
    assert_eq!((flow, out.as_str()), (Flow::Close, "$4\r\nping\r\n+OK\r\n"));
    assert_eq!(batches(&shared), [vec!["ping"]]);
    assert_eq!(shared.stats.snapshot().commands_processed, 2);
}

#[test]
fn an_http_request_closes_without_a_reply() {
    let (mut session, _) = session(Recorder::default());
    let (flow, out, _) = feed(&mut session, "POST / HTTP/1.1\r\nHost: x\r\n");
    assert_eq!((flow, out.as_str()), (Flow::Close, ""));
}

#[test]
fn a_killed_client_gets_nothing_more() {
    let (mut session, shared) = session(Recorder::default());
    let (flow, out, _) = feed(&mut session, "PING\r\nCLIENT KILL ID 1\r\nPING\r\n");
    assert_eq!((flow, out.as_str()), (Flow::Close, ""));
    assert_eq!(batches(&shared), [vec!["ping"], vec!["client|kill"]]);
}

#[test]
fn a_handler_that_loses_a_reply_does_not_desynchronise_the_client() {
    let (mut session, _) = session(Recorder::default());
    session.shared.handler.drop_a_reply.set(true);
    let (_, out, _) = feed(&mut session, "PING\r\nECHO x\r\n");
    assert_eq!(out, "$4\r\nping\r\n-ERR internal error: the handler lost a reply\r\n");
}

fn echoes(count: usize, payload_bytes: usize) -> String {
    let payload = "x".repeat(payload_bytes);
    format!("*2\r\n$4\r\nECHO\r\n${payload_bytes}\r\n{payload}\r\n").repeat(count)
}

#[test]
fn output_at_the_hard_limit_stops_execution_and_closes_without_writing() {
    let (mut session, shared) = session(Recorder::default());
    shared.settings.set_output_buffer_limit(OutputBufferLimit { hard_bytes: 1000, soft_bytes: 0, soft_secs: 0 });
    let (flow, out, _) = feed(&mut session, &echoes(100, 100));
    assert_eq!((flow, out.as_str()), (Flow::Close, ""));
    let executed: usize = batches(&shared).iter().map(Vec::len).sum();
    assert!(executed < 100, "execution went on past the limit: {executed}");
    assert_eq!(shared.stats.snapshot().output_buffer_limit_disconnections, 1);
}

#[test]
fn output_at_the_write_threshold_returns_to_write_before_running_the_rest() {
    let (mut session, shared) = session(Recorder::default());
    let mut input = BytesMut::from(echoes(40, 512 * 1024).as_bytes());
    let mut out = BytesMut::new();
    let flow = block_on(session.process(&mut input, &mut out));
    assert_eq!(flow, Flow::More);
    assert!(out.len() >= DEFAULT_WRITE_THRESHOLD_BYTES && !input.is_empty());
    let sizes: Vec<usize> = batches(&shared).iter().map(Vec::len).collect();
    assert_eq!(sizes[0], 16, "the first run is small: {sizes:?}");
    assert!(sizes[1..].iter().all(|&size| size <= 2), "runs of 512 KiB replies stay near 1 MiB: {sizes:?}");
    out.clear();
    let mut rounds = 1;
    while block_on(session.process(&mut input, &mut out)) == Flow::More {
        out.clear();
        rounds += 1;
        assert!(rounds < 40, "every round runs at least one request");
    }
    assert_eq!(batches(&shared).iter().map(Vec::len).sum::<usize>(), 40);
}

#[test]
fn small_replies_grow_the_runs_to_whole_pipelines() {
    let (mut session, shared) = session(Recorder::default());
    feed(&mut session, &"PING\r\n".repeat(1000));
    let sizes: Vec<usize> = batches(&shared).iter().map(Vec::len).collect();
    assert_eq!(sizes, [16, 984]);
}
