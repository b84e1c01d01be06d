//! What a client reads from a v1 server: never a panic, and whatever
//! decodes encodes back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_fuzz::round_trips;
use roster_protocol::v1::ServerMessage;

fuzz_target!(|data: &[u8]| round_trips(data, ServerMessage::decode, ServerMessage::to_frame));
