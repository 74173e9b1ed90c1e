//! Guards against a runaway decode: the token cap, the compression ratio, a repeated block at the end.

use std::io::Write;

use serde::Serialize;

use super::{DecodeOptions, Hypothesis};

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

pub(crate) fn check_guards(h: &Hypothesis, text: &str, options: &DecodeOptions) -> Option<Guard> {
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
