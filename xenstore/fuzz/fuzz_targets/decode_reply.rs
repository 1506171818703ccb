//! Any byte stream, split into reads of any sizes, through the reply decoder and every payload
//! parser: no panics, and every decoded message re-encodes to exactly the bytes it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xenstore::Perms;
use xenstore::wire::{self, Decoder, MsgType};

fuzz_target!(|data: &[u8]| {
    // First byte: the read size pattern; the rest: the stream.
    let Some((&split, stream)) = data.split_first() else { return };
    let step = usize::from(split % 32) + 1;
    let mut decoder = Decoder::new();
    let mut consumed = 0usize;
    for chunk in stream.chunks(step) {
        decoder.feed(chunk);
        loop {
            match decoder.next_message() {
                Ok(Some(msg)) => {
                    let bytes = msg.encode().expect("a decoded message is within the limit");
                    assert_eq!(&stream[consumed..consumed + bytes.len()], bytes.as_slice());
                    consumed += bytes.len();
                    parse_everything(msg.ty, &msg.payload);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    assert_eq!(consumed + decoder.buffered(), stream.len());
});

fn parse_everything(ty: MsgType, p: &[u8]) {
    let _ = wire::parse_strings(ty, p);
    let _ = wire::parse_error(p);
    let _ = wire::parse_watch_event(p);
    let _ = wire::parse_ok(ty, p);
    let _ = wire::parse_directory(p);
    if let Ok(part) = wire::parse_directory_part(p) {
        assert!(part.children.len() < p.len());
    }
    let _ = wire::parse_transaction_id(p);
    let _ = wire::parse_bool(ty, p);
    let _ = wire::parse_one_string(ty, p);
    if let Ok(perms) = Perms::from_wire(p) {
        assert_eq!(Perms::from_wire(&perms.to_wire()), Ok(perms.clone()));
        assert_eq!(perms.to_string().parse::<Perms>(), Ok(perms));
    }
}
