//! Decoding one segment of MFCC frames into text: encoder bucket, token search, guards and fallback, no-speech gate.

mod search;
mod vocabulary;

use std::io::Write;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use search::{search, Hypothesis, Prefix};
pub use vocabulary::Vocabulary;

use crate::error::Result;
use crate::model::Model;

/// Decoding settings (the `[decode]` table of a device profile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeOptions {
    /// Beam width; 1 is greedy.
    pub beam_size: usize,
    /// Token cap = `max_tokens_base` + `max_tokens_per_second` x segment seconds. Speech runs about 3-4 tokens per
    /// second; a runaway repetition hits the cap.
    pub max_tokens_base: usize,
    /// See `max_tokens_base`.
    pub max_tokens_per_second: f32,
    /// A text whose zlib compression ratio exceeds this is a repetition loop (openai-whisper's 2.4).
    pub max_compression_ratio: f32,
    /// Smallest encoder window in frames (rounded up to the pack's bucket): larger windows cost encoder and decoder
    /// time but are more accurate and robust (the model was trained on 30 s = 3000 frames).
    pub min_window_frames: usize,
    /// The encoder window (frames) to re-decode with when a guard trips; the pack's maximum is 3000 (30 s).
    pub fallback_frames: usize,
    /// A segment is silence when its no-speech probability exceeds this ...
    pub no_speech_threshold: f32,
    /// ... and its average token log-probability is below this (faster-whisper's rule and defaults).
    pub logprob_threshold: f32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_size: 1,
            max_tokens_base: 10,
            max_tokens_per_second: 6.0,
            max_compression_ratio: 2.4,
            min_window_frames: 500,
            fallback_frames: 3000,
            no_speech_threshold: 0.6,
            logprob_threshold: -1.0,
        }
    }
}

/// Which guard rejected the fast decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// More tokens than the cap for this much audio.
    TokenCap,
    /// The text compresses too well: a repetition loop.
    Compression,
    /// The tokens end with a block of at least `MIN_REPEAT_TOKENS` repeated back to back.
    Repetition,
}

/// Shortest token block whose immediate repetition at the end of a hypothesis trips [`Guard::Repetition`]
/// (short enough to catch a repeated sentence, long enough to let "no, no" through).
pub const MIN_REPEAT_TOKENS: usize = 4;

/// True when `tokens` ends with some block of at least `MIN_REPEAT_TOKENS` tokens repeated back to back.
fn ends_in_repeat(tokens: &[u32]) -> bool {
    (MIN_REPEAT_TOKENS..=tokens.len() / 2).any(|len| {
        tokens[tokens.len() - len..] == tokens[tokens.len() - 2 * len..tokens.len() - len]
    })
}

/// The outcome of decoding one segment.
#[derive(Debug, Clone)]
pub struct SegmentDecode {
    /// Text; empty when the segment was judged not to be speech.
    pub text: String,
    /// The hypothesis the text came from.
    pub hypothesis: Hypothesis,
    /// True when the text was dropped: the no-speech gate, or the fallback decode looped too (a runaway).
    pub no_speech: bool,
    /// The guard that tripped on the first decode (the text then comes from the fallback window).
    pub guard: Option<Guard>,
    /// Encoder wall time (all attempts).
    pub encoder_time: Duration,
    /// Decoder wall time (all attempts).
    pub decoder_time: Duration,
}

fn compression_ratio(text: &str) -> f32 {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|_| encoder.finish());
    match compressed {
        Ok(c) if !c.is_empty() => text.len() as f32 / c.len() as f32,
        _ => 0.0,
    }
}

fn check_guards(h: &Hypothesis, text: &str, options: &DecodeOptions) -> Option<Guard> {
    if h.hit_token_cap {
        Some(Guard::TokenCap)
    } else if compression_ratio(text) > options.max_compression_ratio {
        Some(Guard::Compression)
    } else if ends_in_repeat(&h.tokens) {
        Some(Guard::Repetition)
    } else {
        None
    }
}

/// Decode `frames` (frame-major MFCC, `coefficients` values per frame) of one segment lasting `seconds` of audio.
/// First at the smallest bucket that holds it; if a guard trips and `fallback` is set, again with `fallback_frames`
/// (partial decodes skip it: a tripped guard there just means no partial this time). With a forced prefix the
/// no-speech gate is off (the prefix was already shown as speech).
pub fn decode_segment(
    model: &Model,
    frames: &[f32],
    seconds: f32,
    options: &DecodeOptions,
    prefix: Prefix,
    fallback: bool,
) -> Result<SegmentDecode> {
    let coefficients = model.manifest().frontend.mfcc_coefficients;
    let n = frames.len() / coefficients;
    let max_tokens = options.max_tokens_base
        + (options.max_tokens_per_second * seconds.max(0.0)).ceil() as usize;
    let attempt = |padded: usize,
                   encoder_time: &mut Duration,
                   decoder_time: &mut Duration|
     -> Result<(Hypothesis, String)> {
        let t0 = Instant::now();
        let audio = model.encode(frames, padded)?;
        let t1 = Instant::now();
        let forced = match prefix {
            Prefix::None => 0,
            Prefix::Forced(p) => p.len(),
        };
        let h = search(
            model,
            &audio,
            options.beam_size,
            max_tokens + forced,
            prefix,
        )?;
        *encoder_time += t1 - t0;
        *decoder_time += t1.elapsed();
        let text = model.detokenize(&h.tokens);
        Ok((h, text))
    };
    let mut encoder_time = Duration::ZERO;
    let mut decoder_time = Duration::ZERO;
    let first_window = model.bucket_for(n, options.min_window_frames);
    let (mut hypothesis, mut text) = attempt(first_window, &mut encoder_time, &mut decoder_time)?;
    let guard = check_guards(&hypothesis, &text, options);
    let fallback_window = model.bucket_for(n, options.fallback_frames);
    let mut runaway = false;
    if fallback && guard.is_some() && fallback_window > first_window {
        (hypothesis, text) = attempt(fallback_window, &mut encoder_time, &mut decoder_time)?;
        // Still a loop with the larger window: a runaway on non-speech (a tone gave "Beep Beep Beep ..."), not text.
        runaway = check_guards(&hypothesis, &text, options).is_some();
    }
    let no_speech = runaway
        || !matches!(prefix, Prefix::Forced(p) if !p.is_empty())
            && hypothesis.no_speech_prob > options.no_speech_threshold
            && hypothesis.avg_logprob() < options.logprob_threshold;
    let text = if no_speech {
        String::new()
    } else {
        text.trim().to_string()
    };
    Ok(SegmentDecode {
        text,
        hypothesis,
        no_speech,
        guard,
        encoder_time,
        decoder_time,
    })
}

#[cfg(test)]
mod tests {
    use super::{compression_ratio, ends_in_repeat};

    #[test]
    fn a_sentence_said_twice_is_a_repetition_but_a_short_echo_is_not() {
        assert!(ends_in_repeat(&[9, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]));
        assert!(!ends_in_repeat(&[1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(!ends_in_repeat(&[7, 8, 9, 9, 9])); // "no, no, no": blocks shorter than MIN_REPEAT_TOKENS
        assert!(!ends_in_repeat(&[]));
    }

    #[test]
    fn repetition_compresses_far_better_than_a_sentence() {
        let sentence =
            "After the storm passed, the neighbours gathered in the street to clear the branches.";
        assert!(
            compression_ratio(sentence) < 2.0,
            "{}",
            compression_ratio(sentence)
        );
        assert!(compression_ratio(&"Turn off the lights. ".repeat(20)) > 2.4);
    }
}
