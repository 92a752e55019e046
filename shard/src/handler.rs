//! `net::Handler` for the node: executes a connection's batch, records statistics.

use std::rc::Rc;
use std::time::Instant;

use nokv_net::frame::Reply;
use nokv_net::handler::{ConnectionState, Handler, Request};

use crate::core::Core;
use crate::dispatch::execute_request;

/// The handler of one core's connections.
pub struct NodeHandler {
    core: Rc<Core>,
}

impl NodeHandler {
    /// Serves connections of `core`.
    pub fn new(core: Rc<Core>) -> NodeHandler {
        NodeHandler { core }
    }
}

impl Handler for NodeHandler {
    async fn call_batch(&self, conn: &mut ConnectionState, requests: Vec<Request>) -> Vec<Reply> {
        let mut replies = Vec::with_capacity(requests.len());
        for request in requests {
            let started = Instant::now();
            let name = request.spec.full_name();
            // The arguments are kept for a possible slow-log entry only while the slow log is on.
            let threshold = self.core.node.config.slowlog_log_slower_than_us();
            let args_for_log = (threshold >= 0).then(|| request.args.clone());
            let reply = execute_request(&self.core, conn, request.spec, request.args).await;
            let elapsed_us = started.elapsed().as_micros() as u64;
            let failed = matches!(reply, Reply::Error(_));
            self.core.stats.borrow_mut().record(name, elapsed_us, failed);
            if let Some(args) = args_for_log {
                let max_len = self.core.node.config.slowlog_max_len();
                self.core.slowlog.borrow_mut().maybe_log(&args, elapsed_us, threshold, max_len, conn);
            }
            replies.push(reply);
        }
        replies
    }

    fn requires_auth(&self) -> bool {
        self.core.node.config.requires_auth()
    }
}
