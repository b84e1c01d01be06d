//! The seed protocol both ways: a list frame as a client reads it (whatever
//! decodes encodes back to the same users), and a command as a server
//! reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_protocol::seed::{decode_user_list, encode_user_list};
use roster_protocol::SeedCommand;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = std::str::from_utf8(data) else { return };
    if let Ok(users) = decode_user_list(frame) {
        let again = decode_user_list(&encode_user_list(&users)).expect("our own list decodes");
        assert_eq!(again, users);
    }
    if let Some(command) = SeedCommand::parse(frame) {
        assert_eq!(SeedCommand::parse(command.as_frame()), Some(command));
    }
});
