//! Accepting TCP connections and serving HTTP/1.1 on each, with a deadline
//! for the request head.
//!
//! `axum::serve` gives hyper no timer, so hyper's header read timeout never
//! ran: a connection that sent nothing, or a header byte a second (a slow
//! loris), was held forever (found by `tests/api/hostile.rs`; each held a
//! task, a socket and a file descriptor). Here every connection must
//! deliver its whole request head within `--header-timeout-ms` of being
//! accepted, and again for each later request on a kept-alive connection.
//!
//! A peer that goes silent without closing (a partition, a laptop lid, a
//! NAT that forgot the flow) is found by the kernel: every connection has
//! TCP keepalive probes and a user timeout (`--peer-timeout-ms`), so its
//! socket, task and place in the connection count are given back within
//! that deadline instead of TCP's 15 minutes of retransmissions.
//!
//! Only HTTP/1.1 is spoken: browsers reach a plain-HTTP server, and
//! WebSockets, no other way, and `deploy/nginx.conf` forwards HTTP/1.1.
//! (h2c by prior knowledge, which `axum::serve` also accepted, would read
//! its preface with no deadline.)

use std::future::Future;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long to wait before accepting again after the kernel refused
/// (out of file descriptors, most likely): long enough for some to close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The deadlines every connection is held to.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// For each request head.
    pub header: Duration,
    /// For a peer that answers nothing at all, not even TCP's probes.
    pub peer: Duration,
}

/// Keepalive probes after a third of `peer` without traffic, then every
/// tenth of it, and the kernel closes the connection once `peer` passes
/// with a probe or data unacknowledged. Costs no memory and no task.
fn watch_peer(stream: &tokio::net::TcpStream, peer: Duration) -> std::io::Result<()> {
    let socket = socket2::SockRef::from(stream);
    let probes = socket2::TcpKeepalive::new()
        .with_time(peer / 3)
        .with_interval((peer / 10).max(Duration::from_secs(1)))
        .with_retries(6);
    socket.set_tcp_keepalive(&probes)?;
    socket.set_tcp_user_timeout(Some(peer))
}

/// Serves `router` on every connection `listener` accepts until `shutdown`
/// resolves; then stops accepting, cancels `token` (which closes the
/// WebSockets), lets requests in flight finish, and returns once every
/// HTTP connection has ended.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    deadlines: Deadlines,
    token: CancellationToken,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(deadlines.header);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY an ack written right after a change frame
        // waits for the client's delayed ACK of the frame (Nagle's
        // algorithm): measured 41 ms per add for a subscribed client,
        // against under 1 ms.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
        if let Err(err) = watch_peer(&stream, deadlines.peer) {
            tracing::debug!(%err, "could not set TCP keepalive");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let token = token.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = &mut connection => ended,
                () = token.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = ended {
                tracing::debug!(%err, "connection ended");
            }
        });
    }
    tracing::info!("shutting down: closing sockets with 1001");
    token.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}
