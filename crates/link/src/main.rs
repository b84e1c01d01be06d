//! `roster-link`: a slow, reordering link for the fault tests.
//!
//! The kernel this project's machines run has no `tc netem`, so delay and
//! reordering are made here from the kernel's netfilter queue: an
//! `iptables ... -j NFQUEUE --queue-num N` rule hands each packet of the
//! link to this program, which gives it back (`NF_ACCEPT`) after a delay
//! drawn at random from `delay ± jitter`. Packets whose delays cross come
//! out in another order, as on a real path with several routes. Loss and a
//! full blackhole stay in the kernel (`-m statistic`, `-j DROP`), set by
//! the tests themselves (`tests/e2e/support/faults.js`).
//!
//! It runs only inside the network namespace a fault test made, and stops
//! with it (or on SIGTERM); packets it still holds are then dropped, as a
//! link that goes down drops them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Holds each packet of an NFQUEUE for delay ± jitter milliseconds")]
struct Args {
    /// The queue the iptables rule sends packets to.
    #[arg(long, default_value_t = 7)]
    queue: u16,
    /// The mean delay, in milliseconds.
    #[arg(long, default_value_t = 300)]
    delay_ms: u64,
    /// How far each delay may fall from the mean, either way (uniform).
    #[arg(long, default_value_t = 200)]
    jitter_ms: u64,
    /// Seed of the delays, for a link that behaves the same twice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// xorshift64*: the delays need no better randomness, and no crate.
struct Rng(u64);

impl Rng {
    fn up_to(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}

/// The delay of one packet: uniform in `delay ± jitter`.
fn delay_of(args: &Args, rng: &mut Rng) -> Duration {
    let low = args.delay_ms.saturating_sub(args.jitter_ms);
    let high = args.delay_ms + args.jitter_ms;
    Duration::from_millis(low + rng.up_to(high - low + 1))
}

/// A packet held until `due`; `order` keeps two equal dues apart.
struct Held {
    due: Instant,
    order: u64,
    message: nfq::Message,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut queue = nfq::Queue::open()?;
    queue.bind(args.queue)?;
    // Only the headers are needed to give a verdict; the payload stays in
    // the kernel.
    queue.set_copy_range(args.queue, 64)?;
    queue.set_queue_max_len(args.queue, 8192)?;
    queue.set_nonblocking(true);
    eprintln!(
        "roster-link: queue {}, {} ± {} ms",
        args.queue, args.delay_ms, args.jitter_ms
    );
    let mut rng = Rng(args.seed.max(1));
    let mut held = BinaryHeap::new();
    let mut order = 0;
    loop {
        let mut idle = true;
        while let Ok(mut message) = queue.recv() {
            idle = false;
            message.set_verdict(nfq::Verdict::Accept);
            order += 1;
            held.push(Reverse(Held {
                due: Instant::now() + delay_of(&args, &mut rng),
                order,
                message,
            }));
        }
        let now = Instant::now();
        while held.peek().is_some_and(|Reverse(next)| next.due <= now) {
            let Reverse(packet) = held.pop().expect("peeked");
            queue.verdict(packet.message)?;
            idle = false;
        }
        if idle {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_jitter_and_cover_it() {
        let args = Args::parse_from(["roster-link", "--delay-ms", "300", "--jitter-ms", "200"]);
        let mut rng = Rng(9);
        let delays: Vec<u64> = (0..10_000)
            .map(|_| delay_of(&args, &mut rng).as_millis() as u64)
            .collect();
        assert!(delays.iter().all(|d| (100..=500).contains(d)));
        assert!(delays.iter().any(|&d| d < 120) && delays.iter().any(|&d| d > 480));
        let mean = delays.iter().sum::<u64>() as f64 / delays.len() as f64;
        assert!((mean - 300.0).abs() < 10.0, "mean {mean}");
    }
}
