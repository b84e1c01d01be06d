//! How many people have the list open, told to every v1 client without a
//! frame per arrival: when a crowd connects at once, each client gets at
//! most one `presence` frame per [`PRESENCE_INTERVAL`], with the latest
//! count (a `watch` channel keeps only the newest frame, and the count is
//! turned into a frame at most once per interval).

use std::sync::Arc;
use std::time::Duration;

use crate::text::Text;
use roster_protocol::v1::ServerMessage;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The shortest time between two `presence` frames to one client.
pub const PRESENCE_INTERVAL: Duration = Duration::from_secs(1);

/// The viewer count and the latest `presence` frame.
pub struct Presence {
    viewers: watch::Sender<u64>,
    frame: watch::Sender<Text>,
}

/// Counts one viewer (an open connection) until dropped.
pub struct Viewer(Arc<Presence>);

impl Drop for Viewer {
    fn drop(&mut self) {
        self.0.viewers.send_modify(|n| *n = n.saturating_sub(1));
    }
}

fn frame(viewers: u64) -> Text {
    Text::from(ServerMessage::Presence { viewers }.to_frame())
}

impl Default for Presence {
    fn default() -> Self {
        Self {
            viewers: watch::Sender::new(0),
            frame: watch::Sender::new(frame(0)),
        }
    }
}

impl Presence {
    /// Counts a viewer until the returned guard drops.
    pub fn join(self: &Arc<Self>) -> Viewer {
        self.viewers.send_modify(|n| *n += 1);
        Viewer(Arc::clone(self))
    }

    /// The latest `presence` frame, updated at most every
    /// [`PRESENCE_INTERVAL`] by [`Presence::publish`].
    pub fn subscribe(&self) -> watch::Receiver<Text> {
        self.frame.subscribe()
    }

    /// A `presence` frame with the count as it is this moment (for a
    /// client that just said hello).
    pub fn now(&self) -> Text {
        frame(*self.viewers.borrow())
    }

    /// Turns viewer counts into presence frames until `shutdown`: after a
    /// change, waits [`PRESENCE_INTERVAL`], then publishes the count as it
    /// is then (if it differs from the last one published).
    /// (It starts watching the count when called, not when first polled,
    /// so no arrival before the task runs is missed.)
    pub fn publish(
        self: Arc<Self>,
        shutdown: CancellationToken,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut viewers = self.viewers.subscribe();
        let mut last = *viewers.borrow_and_update();
        async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    changed = viewers.changed() => if changed.is_err() { return },
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(PRESENCE_INTERVAL) => {}
                }
                let now = *viewers.borrow_and_update();
                if now != last {
                    last = now;
                    self.frame.send_replace(frame(now));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(frame: &Text) -> u64 {
        match ServerMessage::decode(frame.as_str()).unwrap() {
            ServerMessage::Presence { viewers } => viewers,
            other => panic!("not presence: {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_crowd_arriving_at_once_costs_each_client_one_frame_with_the_final_count() {
        let presence = Arc::new(Presence::default());
        let shutdown = CancellationToken::new();
        tokio::spawn(Arc::clone(&presence).publish(shutdown.clone()));
        let mut client = presence.subscribe();
        client.borrow_and_update();

        let crowd: Vec<_> = (0..1_000).map(|_| presence.join()).collect();
        assert_eq!(
            count(&presence.now()),
            1_000,
            "a hello sees the count at once"
        );
        tokio::time::sleep(PRESENCE_INTERVAL / 2).await;
        assert!(
            !client.has_changed().unwrap(),
            "nothing before the interval ends"
        );
        tokio::time::sleep(PRESENCE_INTERVAL).await;
        assert!(client.has_changed().unwrap());
        assert_eq!(
            count(&client.borrow_and_update()),
            1_000,
            "one frame, the final count"
        );

        // Leaving is coalesced the same way, and the count never goes
        // below zero.
        drop(crowd);
        tokio::time::sleep(PRESENCE_INTERVAL * 2).await;
        assert_eq!(count(&client.borrow_and_update()), 0);
        assert!(!client.has_changed().unwrap());
        shutdown.cancel();
    }

    #[tokio::test(start_paused = true)]
    async fn no_frame_when_the_count_came_back_to_where_it_was() {
        let presence = Arc::new(Presence::default());
        let shutdown = CancellationToken::new();
        tokio::spawn(Arc::clone(&presence).publish(shutdown.clone()));
        let mut client = presence.subscribe();
        client.borrow_and_update();
        drop(presence.join());
        tokio::time::sleep(PRESENCE_INTERVAL * 2).await;
        assert!(!client.has_changed().unwrap(), "one came and went: still 0");
        shutdown.cancel();
    }
}
