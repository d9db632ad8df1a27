//! DIMSE command sets as a peer sends them: reading never panics, and a response built for
//! what was read encodes and reads back as a response to the same message.

#![no_main]

use dicomweb_dimse::command::{Command, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(command) = Command::read(data) else {
        return;
    };
    if let Some(response) = Response::to(&command, 0xA700) {
        let read = Command::read(&response.to_bytes()).expect("a response reads back");
        assert_eq!(read.message_id_responded_to, command.message_id.or(Some(0)));
        assert_eq!(read.status, Some(0xA700));
    }
});
