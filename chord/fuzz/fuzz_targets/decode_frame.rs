//! Any bytes: decoding and validation must never panic, and whatever
//! decodes must re-encode to a frame that decodes to the same message.
#![no_main]

use chord::{decode_frame, encode_frame, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = Config::default();
    if let Ok(msg) = decode_frame(data, cfg.max_message_bytes) {
        let _ = msg.validate(&cfg);
        let again = decode_frame(&encode_frame(&msg), usize::MAX).expect("re-encoded frame decodes");
        assert_eq!(again, msg);
    }
});
