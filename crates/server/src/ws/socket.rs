//! One WebSocket connection's I/O, in the connection's only task.
//!
//! Memory is what this module is about: 10,000 idle connections must cost
//! little more than their kernel sockets.
//! - **Nothing is buffered while idle.** Bytes are read into a buffer on
//!   the stack during a poll; only a frame that has not fully arrived is
//!   kept on the heap, until it has.
//! - **Frames are not copied.** The queue holds [`Text`] payloads shared
//!   with every other connection, each behind its own 2–10 byte header,
//!   and writes them with vectored writes, several frames per call.
//! - **One task.** The protocol loop calls [`Socket::next`], which writes
//!   what is queued while it waits for the client's next message; there is
//!   no writer task and no channel.
//!
//! Backpressure is the queue's length: at `--send-queue` frames the loop
//! stops taking broadcasts and stops reading the client (a client that does
//! not read is not listened to either). Full for `--send-timeout-ms`, the
//! client counts as not reading and is dropped, so it holds at most that
//! many shared frames.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::wire::{self, close_payload, Decoded, Header, Incoming, Reader};
use crate::metrics::{Metrics, Protocol};
use crate::text::Text;

/// Bytes read from the socket per call, into a buffer on the stack.
const READ_CHUNK: usize = 4096;

/// The most frames one vectored write takes (two slices each).
const FRAMES_PER_WRITE: usize = 32;

/// How long a closing connection may take to send what is queued and to
/// hear the client's close frame.
const CLOSING_TIME: Duration = Duration::from_secs(2);

/// How a protocol loop ended, and so how the connection closes.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// Send this close frame, then stop.
    Close(u16, &'static str),
    /// The client closed or went away: send what is queued (a close reply)
    /// if it can be sent at once, then stop.
    Gone,
    /// The client stopped reading and its queue stayed full: drop the TCP
    /// connection (a close frame could not reach a client that does not
    /// read).
    SlowConsumer,
}

/// Settings that shape one connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_message: usize,
    /// Frames queued at which the loop stops taking more.
    pub queue: usize,
    /// How long the queue may stay full.
    pub patience: Duration,
    /// permessage-deflate was agreed: large text frames go compressed
    /// (each compressed once, shared like the frame itself), and the
    /// client's compressed messages are inflated.
    pub deflate: bool,
}

/// A frame waiting to be written, and how much of it has been.
struct Outgoing {
    header: Header,
    payload: Bytes,
    written: usize,
}

impl Outgoing {
    /// The parts not yet written.
    fn remaining(&self) -> [&[u8]; 2] {
        let header = self.header.as_slice();
        if self.written < header.len() {
            [&header[self.written..], &self.payload]
        } else {
            [&[], &self.payload[self.written - header.len()..]]
        }
    }

    fn len(&self) -> usize {
        self.header.as_slice().len() + self.payload.len()
    }
}

pub struct Socket {
    io: TokioIo<Upgraded>,
    reader: Reader,
    /// Bytes of a frame that has not fully arrived; no allocation otherwise.
    inbox: Vec<u8>,
    outbox: VecDeque<Outgoing>,
    limits: Limits,
    /// Runs while the queue is full; the client is dropped when it ends.
    stall: Option<Pin<Box<Sleep>>>,
    /// A close frame is queued: nothing more is sent.
    closing: bool,
    metrics: Arc<Metrics>,
    protocol: Protocol,
}

impl Socket {
    pub fn new(io: Upgraded, limits: Limits, metrics: Arc<Metrics>, protocol: Protocol) -> Self {
        Self {
            io: TokioIo::new(io),
            reader: Reader::new(limits.max_message, limits.deflate),
            inbox: Vec::new(),
            outbox: VecDeque::new(),
            limits,
            stall: None,
            closing: false,
            metrics,
            protocol,
        }
    }

    /// Queues a text frame; it is written while the loop waits in
    /// [`Socket::next`].
    pub fn send(&mut self, text: Text) {
        match text.deflated().filter(|_| self.limits.deflate) {
            Some(deflated) => self.queue_frame(
                Header::compressed(wire::TEXT, deflated.len()),
                deflated.clone(),
            ),
            None => self.queue(wire::TEXT, text.bytes().clone()),
        }
    }

    /// Whether the loop may queue more (and the client is read).
    pub fn has_room(&self) -> bool {
        self.outbox.len() < self.limits.queue
    }

    /// Writes what is queued and waits for the client's next message, or
    /// (`None`) for the queue to have room again after being full: the
    /// caller stopped taking broadcasts while it was full and must look
    /// again, since nothing else would wake it. Pings are answered here.
    /// Cancel-safe: everything lives in `self`.
    pub async fn next(&mut self) -> Result<Option<Incoming>, Ending> {
        let was_full = !self.has_room();
        poll_fn(|cx| self.poll_next(cx, was_full)).await
    }

    /// Ends the connection as `ending` says. Takes at most
    /// [`CLOSING_TIME`].
    pub async fn finish(mut self, ending: Ending) {
        let closed = async {
            match ending {
                Ending::Close(code, reason) => {
                    self.queue(wire::CLOSE, close_payload(code, reason));
                    // Until the client answers with its close (or leaves).
                    while let Ok(message) = self.next().await {
                        if matches!(message, Some(Incoming::Close(_))) {
                            break;
                        }
                    }
                    let _ = poll_fn(|cx| self.poll_write_queued(cx)).await;
                }
                Ending::Gone => {
                    let _ = poll_fn(|cx| self.poll_write_queued(cx)).await;
                }
                Ending::SlowConsumer => return,
            }
            let _ = poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await;
        };
        let _ = tokio::time::timeout(CLOSING_TIME, closed).await;
    }

    fn queue(&mut self, opcode: u8, payload: Bytes) {
        self.queue_frame(Header::new(opcode, payload.len()), payload);
        self.closing |= opcode == wire::CLOSE;
    }

    fn queue_frame(&mut self, header: Header, payload: Bytes) {
        if self.closing {
            return;
        }
        self.outbox.push_back(Outgoing {
            header,
            payload,
            written: 0,
        });
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        was_full: bool,
    ) -> Poll<Result<Option<Incoming>, Ending>> {
        loop {
            if let Poll::Ready(Err(_)) = self.poll_write_queued(cx) {
                return Poll::Ready(Err(Ending::Gone));
            }
            if !self.has_room() {
                let stall = self
                    .stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(self.limits.patience)));
                ready!(stall.as_mut().poll(cx));
                return Poll::Ready(Err(Ending::SlowConsumer));
            }
            self.stall = None;
            if was_full {
                return Poll::Ready(Ok(None));
            }
            if let Some(message) = self.buffered() {
                return Poll::Ready(message.map(Some));
            }
            // A pong just queued goes out before waiting for more.
            if !self.outbox.is_empty() {
                if let Poll::Ready(Err(_)) = self.poll_write_queued(cx) {
                    return Poll::Ready(Err(Ending::Gone));
                }
            }
            match self.poll_read(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(true)) => {}
                // End of stream or a failed read: the client is gone.
                Poll::Ready(Ok(false) | Err(_)) => return Poll::Ready(Err(Ending::Gone)),
            }
        }
    }

    /// The next message among the bytes already read, without reading
    /// more; pings are answered on the way.
    pub fn buffered(&mut self) -> Option<Result<Incoming, Ending>> {
        loop {
            match self.reader.decode(&mut self.inbox) {
                Err(violation) => {
                    return Some(Err(Ending::Close(violation.code, violation.reason)))
                }
                Ok(Decoded::Incomplete) => return None,
                Ok(Decoded::Frame { used, message }) => {
                    self.inbox.drain(..used);
                    if self.inbox.is_empty() {
                        // Idle connections hold no read buffer.
                        self.inbox = Vec::new();
                    }
                    match message {
                        Some(Incoming::Ping(payload)) => self.queue(wire::PONG, payload),
                        Some(Incoming::Close(code)) => {
                            // Echo the code (RFC 6455 §5.5.1), then go.
                            let reply =
                                code.map_or_else(Bytes::new, |code| close_payload(code, ""));
                            self.queue(wire::CLOSE, reply);
                            return Some(Ok(Incoming::Close(code)));
                        }
                        Some(message) => return Some(Ok(message)),
                        None => {}
                    }
                }
            }
        }
    }

    /// Reads what has arrived onto the end of the inbox; `false` at the
    /// end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        // Not zeroed: each change wakes every connection, and clearing
        // 4 KiB per wake showed in the fan-out's profile (memset, 1.4%).
        let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut buf = ReadBuf::uninit(&mut chunk);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        self.inbox.extend_from_slice(buf.filled());
        Poll::Ready(Ok(!buf.filled().is_empty()))
    }

    /// Writes queued frames until the queue is empty (ready) or the socket
    /// is full (pending).
    fn poll_write_queued(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.outbox.is_empty() {
            let mut slices = [IoSlice::new(&[]); FRAMES_PER_WRITE * 2];
            let mut count = 0;
            for frame in self.outbox.iter().take(FRAMES_PER_WRITE) {
                for part in frame.remaining() {
                    if !part.is_empty() {
                        slices[count] = IoSlice::new(part);
                        count += 1;
                    }
                }
            }
            let mut written =
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            while let Some(frame) = self.outbox.front_mut() {
                let left = frame.len() - frame.written;
                if written < left {
                    frame.written += written;
                    break;
                }
                written -= left;
                self.outbox.pop_front();
                self.metrics.frame_out(self.protocol);
            }
        }
        // An idle connection keeps no queue allocated.
        self.outbox = VecDeque::new();
        Pin::new(&mut self.io).poll_flush(cx)
    }
}
