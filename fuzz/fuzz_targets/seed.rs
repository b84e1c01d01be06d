//! The seed protocol both ways: a list frame as a client reads it (whatever
//! decodes encodes back to the same users), and a command as a server
//! reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_fuzz::round_trips;
use roster_protocol::seed::{decode_user_list, encode_user_list};
use roster_protocol::{SeedCommand, User};

fuzz_target!(|data: &[u8]| {
    round_trips(data, decode_user_list, |users: &Vec<User>| {
        encode_user_list(users)
    });
    let Ok(frame) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(command) = SeedCommand::parse(frame) {
        assert_eq!(SeedCommand::parse(command.as_frame()), Some(command));
    }
});
