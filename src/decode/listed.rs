//! A final decoded with a term list: the list may add its terms, and nothing else.
//!
//! The final is first decoded exactly as without a list (the plain text: its search, fallbacks, punctuation and
//! casing). When the model comes near a listed term anywhere in that text (a term's first token is plausible at a
//! word start, see [`near_a_term`]), the segment is searched again with the fusion bias and the wider beam, and the
//! term check places terms the search missed ([`super::term_check`]). From that biased text only the spans that
//! hold a listed term the plain text lacks are taken, each put in place of the plain words it stands for (aligned
//! word by word), and each kept only when the model without any bias scores the whole text with it at most
//! [`ALLOWED_LOSS`] below the text without it: more when the term sounds like the words it replaces. Everything else
//! stays as the plain decode wrote it. A segment whose plain text never comes near a term costs one decoder call more
//! than without a list.

use super::phonetic::Sound;
use super::search::next_token_logprobs;
use super::term_check::{self, logprob};
use super::{Bias, Decoder, Hypothesis, Prefix};
use crate::error::Result;
use crate::model::{AudioContext, KvCache};

/// Most log-probability (nats, over the whole text and its end) a listed term may cost the text it is put into, by
/// how alike the term and the words it replaces sound ([`Sound::distance`]): (largest distance, most loss), the
/// first that holds applies; a term that sounds further from the words than the last distance is never put in.
/// Calibrated on the dev set's term and term-free speech (benches/vocabulary/README.md).
const ALLOWED_LOSS: [(f32, f32); 3] = [(0.1, 8.0), (0.25, 5.0), (0.45, 3.5)];

/// The most a term may cost where it sounds `distance` from the words it replaces (see [`ALLOWED_LOSS`]); `None` when
/// it may not be put there.
pub(crate) fn allowed_loss(distance: f32) -> Option<f32> {
    ALLOWED_LOSS
        .iter()
        .find(|&&(most, _)| distance <= most)
        .map(|&(_, loss)| loss)
}

/// A term is near where its first token's log-probability at a word start is above this, and within
/// [`NEAR_MARGIN`] of the token the plain text has there.
const NEAR_FLOOR: f32 = -8.5;
/// See [`NEAR_FLOOR`].
const NEAR_MARGIN: f32 = 3.0;

/// The unbiased model's log-probabilities over a text: row j is the next token after `prompt + tokens[..j]`; and
/// the decoder cache of that call, to score other endings of the text from any point.
struct Scored {
    rows: Vec<f32>,
    cache: KvCache,
}

fn score_rows(decoder: Decoder, audio: &AudioContext, tokens: &[u32]) -> Result<Scored> {
    let prompt = decoder.prompt;
    let fed: Vec<u32> = prompt.iter().chain(tokens).copied().collect();
    let mut cache = KvCache::default();
    let all = next_token_logprobs(decoder, audio, &fed, &mut cache)?;
    let vocab = decoder.model.manifest().decoder.vocab_size;
    let rows = all[(prompt.len() - 1) * vocab..].to_vec();
    Ok(Scored { rows, cache })
}

/// The log-probability of `text` and the end of text after it, where `text` starts with `plain[..start]` (`scored`
/// is the plain text's): the common start from the plain rows, the rest from one decoder call on its cache.
fn score_text(
    decoder: Decoder,
    audio: &AudioContext,
    plain: &[u32],
    scored: &Scored,
    text: &[u32],
    start: usize,
) -> Result<f32> {
    let manifest = decoder.model.manifest();
    let vocab = manifest.decoder.vocab_size;
    let eot = manifest.tokens.end_of_text;
    let common: f32 = (0..start)
        .map(|j| logprob(&scored.rows, vocab, j, plain[j]))
        .sum();
    let rest = &text[start..];
    let Some(&first) = rest.first() else {
        return Ok(common + logprob(&scored.rows, vocab, start, eot));
    };
    let mut cache = scored.cache.try_prefix(decoder.prompt.len() + start)?;
    let rows = next_token_logprobs(decoder, audio, rest, &mut cache)?;
    Ok(common
        + logprob(&scored.rows, vocab, start, first)
        + (1..rest.len())
            .map(|i| logprob(&rows, vocab, i - 1, rest[i]))
            .sum::<f32>()
        + logprob(&rows, vocab, rest.len() - 1, eot))
}

/// True when some listed term's first token is plausible at a word start of the plain text: only then can the
/// biased search or the term check put a term there.
fn near_a_term(decoder: Decoder, bias: &Bias, rows: &[f32], tokens: &[u32]) -> bool {
    let vocab = decoder.model.manifest().decoder.vocab_size;
    (0..=tokens.len())
        .filter(|&j| j == 0 || j == tokens.len() || decoder.vocabulary.starts_word(tokens[j]))
        .any(|j| {
            let here = tokens
                .get(j)
                .map_or(f32::NEG_INFINITY, |&t| logprob(rows, vocab, j, t));
            bias.first_tokens().any(|t| {
                let p = logprob(rows, vocab, j, t);
                p > NEAR_FLOOR && (here.is_infinite() || p > here - NEAR_MARGIN)
            })
        })
}

/// Token ranges of the words of `tokens` (a word starts at a token with a leading space; punctuation stays with the
/// word before it).
fn words(decoder: Decoder, tokens: &[u32]) -> Vec<std::ops::Range<usize>> {
    let mut starts: Vec<usize> = (0..tokens.len())
        .filter(|&j| j == 0 || decoder.vocabulary.starts_word(tokens[j]))
        .collect();
    starts.push(tokens.len());
    starts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// For each word of `b`, the word of `a` it is aligned with (longest common subsequence of equal words).
fn align(a: &[&[u32]], b: &[&[u32]]) -> Vec<Option<usize>> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut matched = vec![None; m];
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            matched[j] = Some(i);
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    matched
}

/// One replacement of plain words by biased ones: plain tokens `plain` become `words`, the biased tokens `biased`
/// with the term written as the list spells it.
struct Swap {
    plain: std::ops::Range<usize>,
    biased: std::ops::Range<usize>,
    words: Vec<u32>,
}

/// Token ranges where `text` spells one of `spellings` as whole words ("loft" inside "mochloft" is no term).
fn whole_words(
    decoder: Decoder,
    text: &[u32],
    spellings: &[Vec<u32>],
) -> Vec<std::ops::Range<usize>> {
    let vocabulary = decoder.vocabulary;
    let whole = |start: usize, end: usize| {
        (start == 0 || !vocabulary.continues_word(text[start]))
            && text.get(end).is_none_or(|&t| !vocabulary.continues_word(t))
    };
    term_check::occurrences(text, spellings)
        .into_iter()
        .map(|(start, end)| start..end)
        .filter(|r| whole(r.start, r.end))
        .collect()
}

/// The spans of `biased` that hold a listed term `plain` holds fewer times, each with the plain tokens it replaces:
/// the term's words widened to the unaligned words around them.
fn term_swaps(decoder: Decoder, bias: &Bias, plain: &[u32], biased: &[u32]) -> Vec<Swap> {
    let (pw, bw) = (words(decoder, plain), words(decoder, biased));
    let p_words: Vec<&[u32]> = pw.iter().map(|r| &plain[r.clone()]).collect();
    let b_words: Vec<&[u32]> = bw.iter().map(|r| &biased[r.clone()]).collect();
    let matched = align(&p_words, &b_words);
    let word_of = |token: usize| bw.iter().position(|r| r.contains(&token)).unwrap_or(0);
    let mut swaps: Vec<Swap> = Vec::new();
    for term in bias.term_tokens() {
        let found = whole_words(decoder, biased, &term.spellings);
        if found.len() <= whole_words(decoder, plain, &term.spellings).len() {
            continue;
        }
        for span in found {
            let (mut first, mut last) = (word_of(span.start), word_of(span.end - 1));
            while first > 0 && matched[first - 1].is_none() {
                first -= 1;
            }
            while last + 1 < bw.len() && matched[last + 1].is_none() {
                last += 1;
            }
            let p_start = (0..first)
                .rev()
                .find_map(|k| matched[k])
                .map_or(0, |i| pw[i].end);
            let p_end = (last + 1..bw.len())
                .find_map(|k| matched[k])
                .map_or(plain.len(), |i| pw[i].start);
            let biased_words = bw[first].start..bw[last].end;
            // A spelling after a space (" hue bridge") is written as listed (" Hue Bridge"); one glued to what
            // comes before it stays as the search wrote it.
            let term_words = if decoder.vocabulary.starts_word(biased[span.start]) {
                &term.written[..]
            } else {
                &biased[span.clone()]
            };
            let words = [
                &biased[biased_words.start..span.start],
                term_words,
                &biased[span.end..biased_words.end],
            ]
            .concat();
            let swap = Swap {
                plain: p_start..p_end.max(p_start),
                biased: biased_words,
                words,
            };
            let overlaps =
                |s: &Swap| s.biased.start < swap.biased.end && swap.biased.start < s.biased.end;
            if plain[swap.plain.clone()] != swap.words[..] && !swaps.iter().any(overlaps) {
                swaps.push(swap);
            }
        }
    }
    swaps.sort_by_key(|s| s.plain.start);
    swaps
}

/// The plain hypothesis with the listed terms the biased decode found and the model accepts (see the module docs).
/// `audio` is the encoder output the plain text was decoded from; `max_tokens` and `prefix` as for its search.
pub(crate) fn add_terms(
    decoder: Decoder,
    bias: &Bias,
    audio: &AudioContext,
    plain: &Hypothesis,
    beam_size: usize,
    max_tokens: usize,
    prefix: Prefix,
) -> Result<Vec<u32>> {
    let unbiased = Decoder {
        bias: None,
        ..decoder
    };
    let scored = score_rows(unbiased, audio, &plain.tokens)?;
    if !near_a_term(unbiased, bias, &scored.rows, &plain.tokens) {
        return Ok(plain.tokens.clone());
    }
    let biased = super::search(decoder, audio, beam_size, max_tokens, prefix)?;
    let biased = term_check::place_terms(decoder, audio, bias, &biased.tokens)?;
    let mut text = plain.tokens.clone();
    let mut current = score_text(unbiased, audio, &plain.tokens, &scored, &text, text.len())?;
    // Right to left: the text before a swap is still the plain text, so its rows and cache serve.
    for swap in term_swaps(unbiased, bias, &plain.tokens, &biased)
        .into_iter()
        .rev()
    {
        let vocabulary = unbiased.vocabulary;
        let replaced = Sound::of(&vocabulary.detokenize(&plain.tokens[swap.plain.clone()]));
        let Some(loss) =
            allowed_loss(replaced.distance(&Sound::of(&vocabulary.detokenize(&swap.words))))
        else {
            continue;
        };
        let mut candidate = text.clone();
        candidate.splice(swap.plain.clone(), swap.words.iter().copied());
        let score = score_text(
            unbiased,
            audio,
            &plain.tokens,
            &scored,
            &candidate,
            swap.plain.start,
        )?;
        if score >= current - loss {
            (text, current) = (candidate, score);
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn words_align_on_the_longest_common_run_and_the_rest_stays_unmatched() {
        let w = |s: &'static str| -> Vec<&'static [u32]> {
            s.bytes()
                .map(|b| match b {
                    b'a' => &[1][..],
                    b'b' => &[2][..],
                    b'c' => &[3][..],
                    b'x' => &[9, 9][..],
                    _ => &[7][..],
                })
                .collect()
        };
        // plain "a b c a", biased "a x c a": x stands where b was.
        assert_eq!(
            align(&w("abca"), &w("axca")),
            [Some(0), None, Some(2), Some(3)]
        );
        // The biased text drops a word and adds two.
        assert_eq!(align(&w("abc"), &w("axxc")), [Some(0), None, None, Some(2)]);
        assert_eq!(align(&w(""), &w("ab")), [None, None]);
        assert!(align(&w("ab"), &w("")).is_empty());
    }
}
