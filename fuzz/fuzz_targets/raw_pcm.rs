//! Raw PCM ingestion (`earshot listen --stdin`): arbitrary bytes in arbitrary pieces through the PCM decoder and the
//! capture side. The samples must not depend on where the stream was cut, every whole frame must come out, and the
//! capture side must take anything (NaN and infinity included) without panicking or making non-finite frames.
#![no_main]

use libfuzzer_sys::fuzz_target;

use earshot::audio::{CaptureSide, PcmDecoder, PcmFormat};
use earshot::ring::frame_ring;
use earshot_fuzz::frontend_spec;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let format = if control & 1 == 0 {
        PcmFormat::S16le
    } else {
        PcmFormat::F32le
    };
    let channels = usize::from(control >> 1 & 7) + 1;
    let rates = [
        8_000, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000,
    ];
    let rate = rates[usize::from(control >> 4 & 7)];
    let frame_bytes = format.bytes() * channels;

    let mut whole = Vec::new();
    let mut once = PcmDecoder::new(format, channels);
    once.push(rest, |s| whole.extend_from_slice(s));

    let (producer, mut consumer) = frame_ring(4096);
    let mut capture =
        CaptureSide::new(frontend_spec(), rate, channels, producer).expect("capture side");
    let mut pieces = Vec::new();
    let mut cut = PcmDecoder::new(format, channels);
    // Piece lengths come from the data itself: 1 + byte % 61.
    let mut at = 0;
    let mut k = 0;
    while at < rest.len() {
        let len = (1 + usize::from(rest[k % rest.len()]) % 61).min(rest.len() - at);
        cut.push(&rest[at..at + len], |s| {
            pieces.extend_from_slice(s);
            capture.push_f32(s, 0);
        });
        at += len;
        k += 1;
    }
    capture.finish(0);
    assert_eq!(whole.len(), rest.len() / frame_bytes * channels);
    assert_eq!(once.pending_bytes(), rest.len() % frame_bytes);
    assert_eq!(cut.pending_bytes(), once.pending_bytes());
    assert_eq!(
        whole.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
        pieces.iter().map(|s| s.to_bits()).collect::<Vec<_>>()
    );
    while let Some(frame) = consumer.pop() {
        assert!(
            frame.values().iter().all(|v| v.is_finite()),
            "non-finite MFCC frame"
        );
    }
});
