//! WAV ingestion: arbitrary bytes as a WAV file, read to the end in blocks. Must never panic; whatever is read is
//! finite mono audio, and a read error is final (the next read returns no more audio than the error said).
#![no_main]

use libfuzzer_sys::fuzz_target;

use earshot::audio::WavSource;

fuzz_target!(|data: &[u8]| {
    let Ok(mut wav) = WavSource::from_reader(std::io::Cursor::new(data.to_vec()), "fuzz.wav")
    else {
        return;
    };
    assert!((8_000..=192_000).contains(&wav.sample_rate()));
    assert!((1..=8).contains(&wav.channels()));
    let mut block = Vec::new();
    let mut total = 0usize;
    // Bytes bound the samples: at least 2 bytes per sample of every channel.
    let most = data.len() / 2 + 1;
    loop {
        match wav.read_mono(&mut block, 4096) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                assert_eq!(n, block.len());
                assert!(block.iter().all(|s| s.is_finite()), "non-finite sample");
                total += n;
                assert!(total <= most, "{total} frames from {} bytes", data.len());
            }
        }
    }
});
