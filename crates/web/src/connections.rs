//! The accept loop of `respite serve`: HTTP/1.1 connections with a deadline
//! for each request head, a cap on open connections, and graceful shutdown.
//!
//! `axum::serve` sets no header-read timeout and no connection cap, so idle
//! and slowloris connections were held open until the process ran out of
//! file descriptors. Here hyper's own HTTP/1 connection does the work:
//! its header-read timer starts when a connection opens *and* each time it
//! goes idle after a response, so one setting closes both slow heads and
//! idle kept-alive connections. Slow bodies and slow handlers meet the
//! request timeout of the router's layers (`routes::router`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Limits on connections and on the time a client may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A client must send a complete request head (request line and
    /// headers) within this long after connecting, and within this long of
    /// the previous response on a kept-alive connection; else the connection
    /// is closed. Default 10 s: a browser sends its head in one packet.
    pub header_read_timeout: Duration,
    /// A request, body and handler together, must finish within this long;
    /// else it is answered 408 and its connection closed. Default 30 s.
    pub request_timeout: Duration,
    /// Open connections at most. A connection beyond the cap is closed as
    /// soon as it is accepted, so that the process never reaches its file
    /// limit (keep `LimitNOFILE` above this plus the database pool).
    /// Default 1024.
    pub max_connections: usize,
    /// At shutdown, requests in flight get this long to finish. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// requests finish (at most `limits.shutdown_grace`). Each request carries
/// `ConnectInfo<SocketAddr>`, the peer's address, as with `axum::serve`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors or a connection reset before
                    // accept: not fatal. Wait a moment, as axum::serve does.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = open.clone().try_acquire_owned() else {
            // Over the cap: shed the newcomer, keep the ones being served.
            tracing::debug!("connection cap reached: connection closed");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            let mut app = app.clone();
            async move {
                let response = tower::Service::call(&mut app, request.map(axum::body::Body::new));
                Ok::<_, Infallible>(response.await.unwrap_or_else(|never| match never {}))
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _slot = slot;
            // A closed or timed-out connection is the client's business.
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown: requests still open after the grace period");
        }
    }
    Ok(())
}
