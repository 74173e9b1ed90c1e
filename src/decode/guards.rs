//! Guards against a runaway decode: the token cap, the compression ratio, a repeated block at the end (of tokens,
//! or of words compared without case and punctuation).

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
    /// The tokens (or the words, ignoring case and punctuation) end with a block of at least `MIN_REPEAT_TOKENS`
    /// repeated back to back.
    Repetition,
}

/// Shortest token (or word) block whose immediate repetition at the end of a hypothesis trips
/// [`Guard::Repetition`] (short enough to catch a repeated sentence, long enough to let "no, no" through).
pub const MIN_REPEAT_TOKENS: usize = 4;

/// True when `items` ends with some block of at least `MIN_REPEAT_TOKENS` items repeated back to back.
fn ends_in_repeat<T: PartialEq>(items: &[T]) -> bool {
    let n = items.len();
    (MIN_REPEAT_TOKENS..=n / 2).any(|len| items[n - len..] == items[n - 2 * len..n - len])
}

/// Where the first copy of the loop that `items` ends in ends: the loop is a block of at least `MIN_REPEAT_TOKENS`
/// items repeated back to back up to the end (the last copy may be cut short), at least twice in full. The earliest
/// such loop counts; `None` when `items` does not end in one.
pub(crate) fn first_copy_end<T: PartialEq>(items: &[T]) -> Option<usize> {
    let n = items.len();
    (MIN_REPEAT_TOKENS..=n / 2)
        .filter_map(|len| {
            // The periodic tail: back from the end while each item equals the one `len` later.
            let mut start = n - len;
            while start > 0 && items[start - 1] == items[start - 1 + len] {
                start -= 1;
            }
            (n - start >= 2 * len).then_some(start + len)
        })
        .min()
}

/// The words of `text`, lowercased, without punctuation: "card. The" and "card the" are the same words (a sentence
/// said twice comes back with a capital the second time, so its tokens differ).
fn plain_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
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
    } else if ends_in_repeat(&h.tokens) || ends_in_repeat(&plain_words(text)) {
        Some(Guard::Repetition)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{compression_ratio, ends_in_repeat, first_copy_end, plain_words};

    #[test]
    fn a_sentence_said_twice_is_a_repetition_but_a_short_echo_is_not() {
        assert!(ends_in_repeat(&[9, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]));
        assert!(!ends_in_repeat(&[1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(!ends_in_repeat(&[7, 8, 9, 9, 9])); // "no, no, no": blocks shorter than MIN_REPEAT_TOKENS
        assert!(!ends_in_repeat::<u32>(&[]));
    }

    #[test]
    fn a_loop_is_cut_after_its_first_copy_even_when_the_last_copy_is_cut_short() {
        // "mix water sugar now" twice and a half, after a lead-in of two tokens.
        assert_eq!(
            first_copy_end(&[7, 8, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2]),
            Some(6)
        );
        // The loop from the very start, with a period that is a multiple of a shorter one: the shorter one wins.
        assert_eq!(
            first_copy_end(&[1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]),
            Some(4)
        );
        // Less than two full copies, or blocks shorter than MIN_REPEAT_TOKENS: no loop.
        assert_eq!(first_copy_end(&[5, 1, 2, 3, 4, 1, 2, 3]), None);
        assert_eq!(first_copy_end(&[1, 2, 3, 4, 5, 6, 7, 8]), None);
        assert_eq!(first_copy_end(&[7, 9, 9, 9, 9, 9]), None);
        assert_eq!(first_copy_end::<u32>(&[]), None);
    }

    #[test]
    fn a_sentence_said_twice_with_a_capital_the_second_time_is_a_repetition() {
        let twice = "the network runs on the processor. The network runs on the processor.";
        assert!(ends_in_repeat(&plain_words(twice)));
        assert!(!ends_in_repeat(&plain_words(
            "The network runs on the processor, not on the network."
        )));
        assert!(!ends_in_repeat(&plain_words("No, no. No, no!")));
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
