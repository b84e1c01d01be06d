//! Roster protocol v1 on one connection (see `roster_protocol::v1` for the
//! message catalogue).
//!
//! Nothing is broadcast to the client until its `hello`; then it gets the
//! missed changes or a snapshot, the viewer count, and every change after.
//! Each `add`/`remove` is answered with an ack once committed; a bad frame
//! with an error (or an error ack when it named a request id). Nothing a
//! client sends closes the connection except an oversize frame (1009).

use std::time::Instant;

use axum::extract::ws::{close_code, Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use roster_protocol::v1::{Ack, ClientMessage, ErrorBody, ErrorCode, FrameError, ServerMessage};
use roster_protocol::validate::RequestId;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{read_failed, Ending, Outbound, Stalled};
use crate::limits::TokenBucket;
use crate::metrics::Protocol;
use crate::roster::{Greeting, Outcome, Published};
use crate::AppState;

/// One connection's state.
struct Session<'a> {
    out: &'a Outbound,
    state: &'a AppState,
    /// Changes to forward; `None` until `hello`.
    events: Option<broadcast::Receiver<Published>>,
    /// The last version this client has been sent.
    sent_version: u64,
    writes: TokenBucket,
}

pub async fn serve(mut stream: SplitStream<WebSocket>, out: &Outbound, state: &AppState) -> Ending {
    let mut presence = state.presence.subscribe();
    let mut session = Session {
        out,
        state,
        events: None,
        sent_version: 0,
        writes: TokenBucket::new(
            state.config.write_rate,
            state.config.write_burst,
            Instant::now(),
        ),
    };
    loop {
        let step = tokio::select! {
            () = state.shutdown.cancelled() => {
                return Ending::Close(close_code::AWAY, "server shutting down");
            }
            event = next_event(&mut session.events) => session.forward(event).await,
            changed = presence.changed(), if session.events.is_some() => {
                if changed.is_err() {
                    return Ending::Gone;
                }
                let frame = presence.borrow_and_update().clone();
                out.text(frame).await
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    state.metrics.frame_in(Protocol::V1);
                    session.handle(text.as_str()).await
                }
                Some(Ok(Message::Binary(_))) => {
                    state.metrics.frame_in(Protocol::V1);
                    session.reject(FrameError::binary()).await
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_))) | None => return Ending::Gone,
                Some(Err(err)) => return read_failed(&err, state),
            },
        };
        if step.is_err() {
            return Ending::SlowConsumer;
        }
    }
}

/// The next broadcast change, or never before `hello`.
async fn next_event(
    events: &mut Option<broadcast::Receiver<Published>>,
) -> Result<Published, RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

impl Session<'_> {
    async fn handle(&mut self, frame: &str) -> Result<(), Stalled> {
        let message = match ClientMessage::decode(frame) {
            Ok(message) => message,
            Err(err) => return self.reject(err).await,
        };
        match message {
            ClientMessage::Hello { since, epoch } => self.greet(since, epoch).await,
            ClientMessage::Ping { nonce } => self.send(&ServerMessage::Pong { nonce }).await,
            ClientMessage::Add {
                request_id,
                name,
                email,
            } => {
                let outcome = self
                    .write(&request_id, move |roster, id| {
                        roster.add(Some(id), name.as_deref(), email.as_deref())
                    })
                    .await;
                self.ack(request_id, outcome).await
            }
            ClientMessage::Remove { request_id, id } => {
                let outcome = self
                    .write(&request_id, move |roster, request| {
                        roster.remove(Some(request), &id)
                    })
                    .await;
                self.ack(request_id, outcome).await
            }
        }
    }

    /// Runs a write if the rate limit allows it.
    async fn write(
        &mut self,
        request_id: &RequestId,
        call: impl FnOnce(&crate::Roster, RequestId) -> Outcome + Send + 'static,
    ) -> Outcome {
        if !self.writes.try_take(Instant::now()) {
            let wait_ms = self.writes.wait().as_millis().max(1) as u64;
            tracing::warn!(%request_id, "write refused: rate limit");
            return Err(ErrorBody::new(
                ErrorCode::RateLimited,
                format!("too many changes from this connection; retry in {wait_ms} ms"),
            )
            .retry_after(wait_ms));
        }
        let id = request_id.clone();
        self.state
            .roster
            .blocking(move |roster| call(roster, id))
            .await
    }

    async fn ack(&mut self, request_id: RequestId, outcome: Outcome) -> Result<(), Stalled> {
        let ack = match outcome {
            Ok(committed) => {
                let mut ack = Ack::done(request_id, &committed.change);
                ack.replayed = committed.replayed;
                ack
            }
            Err(error) => {
                self.state.metrics.error(&error.code);
                Ack::failed(request_id, error)
            }
        };
        self.send(&ServerMessage::Ack(ack)).await
    }

    /// Answers a frame that is not a valid request.
    async fn reject(&mut self, err: FrameError) -> Result<(), Stalled> {
        self.state.metrics.error(&err.error.code);
        tracing::debug!(code = %err.error.code, "bad frame from client");
        match err.request_id {
            Some(request_id) => {
                self.send(&ServerMessage::Ack(Ack::failed(request_id, err.error)))
                    .await
            }
            None => self.send(&ServerMessage::Error(err.error)).await,
        }
    }

    async fn greet(&mut self, since: Option<u64>, epoch: Option<String>) -> Result<(), Stalled> {
        let greeting = self
            .state
            .roster
            .blocking(move |roster| roster.greet(since, epoch.as_deref()))
            .await;
        let (greeting, events) = match greeting {
            Ok(greeting) => greeting,
            Err(error) => {
                self.state.metrics.error(&error.code);
                return self.send(&ServerMessage::Error(error)).await;
            }
        };
        self.events = Some(events);
        match greeting {
            Greeting::Snapshot { version, frame } => {
                self.sent_version = version;
                self.out.text(frame).await?;
            }
            Greeting::Changes { version, frames } => {
                self.sent_version = version;
                for frame in frames {
                    self.out.text(frame).await?;
                }
            }
        }
        self.out.text(self.state.presence.now()).await
    }

    /// Sends a broadcast change unless the client already has it; after
    /// falling too far behind, a fresh snapshot.
    async fn forward(&mut self, event: Result<Published, RecvError>) -> Result<(), Stalled> {
        match event {
            // A reloaded list replaces whatever the client had.
            Ok(published) if published.reset => {
                self.sent_version = published.version;
                self.out.text(published.frame).await
            }
            Ok(published) if published.version > self.sent_version => {
                self.sent_version = published.version;
                self.out.text(published.frame).await
            }
            Ok(_) => Ok(()),
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "client fell behind; sending a snapshot");
                let (version, frame) = self.state.roster.snapshot();
                self.sent_version = version;
                self.out.text(frame).await
            }
            Err(RecvError::Closed) => {
                self.events = None;
                Ok(())
            }
        }
    }

    async fn send(&self, message: &ServerMessage) -> Result<(), Stalled> {
        self.out.text(message.to_frame()).await
    }
}
