//! What a server reads from a v1 client: never a panic, and whatever
//! decodes encodes back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_fuzz::round_trips;
use roster_protocol::v1::ClientMessage;

fuzz_target!(|data: &[u8]| round_trips(data, ClientMessage::decode, ClientMessage::to_frame));
