//! Term check of a final: listed terms the search missed, put where the model itself finds them plausible.
//!
//! The fusion bias ([`Bias`]) only helps while the search is running; when the acoustically likely first token of
//! a name wins (Aoife heard as "Eva", Hue Bridge as "Hubridge"), the term is lost. After the search, each listed term
//! that is not in the text is tried in place of each span of one to [`MAX_SPAN_WORDS`] words where the model gives
//! the term's first token a log-probability above [`FIRST_TOKEN_FLOOR`] and the span itself was not much more
//! likely. Each such variant is scored by the model (no bias) over the term and the token after it, and the best is
//! kept when it loses at most [`ACCEPT_LOSS`] against the text as it was (nothing, when it would replace another
//! listed term: then the model must prefer it outright). Run on the biased search of a final (see `listed`), whose
//! own acceptance then judges every term placed.
//! Thresholds measured on the dev set: tests/fixtures/vocabulary/README.md.

use super::listed;
use super::phonetic::Sound;
use super::search::next_token_logprobs;
use super::{Bias, Decoder};
use crate::error::Result;
use crate::model::{AudioContext, KvCache};
use std::collections::HashMap;

/// Longest span of words a term may replace.
const MAX_SPAN_WORDS: usize = 3;
/// A term is tried where the log-probability of its first token is above this.
const FIRST_TOKEN_FLOOR: f32 = -8.5;
/// ... and where that first token is at most this much less likely than the whole span it replaces.
const SPAN_MARGIN_FLOOR: f32 = -6.0;
/// Most log-probability a variant with a term may lose against the text without it.
const ACCEPT_LOSS: f32 = 9.5;
/// Most variants scored per round (those that sound like the words they replace first, then the most plausible), so
/// a long term list stays bounded.
const MAX_VARIANTS: usize = 8;
/// Tokens after a span that a variant is scored over.
const TAIL_TOKENS: usize = 1;
/// Most terms placed in one final.
const MAX_ROUNDS: usize = 4;

struct Variant {
    /// Token range of the text that the term replaces.
    start: usize,
    end: usize,
    term: usize,
    /// How much log-probability it may lose and still be kept.
    allowed_loss: f32,
    /// The log-probability of the term's first token there.
    first: f32,
    /// How much the final's acceptance would let the term cost there for sounding like the words it replaces
    /// ([`listed::allowed_loss`]; minus infinity: it would not be kept); the most first.
    room: f32,
}

/// `tokens` (a final's text) with the listed terms the model accepts in place. Per round, one decoder call over
/// the text, then one short call per variant scored: from the text's cache up to the span, the term and the
/// [`TAIL_TOKENS`] tokens after the span (the rest of the text is taken to score alike in both).
pub(crate) fn place_terms(
    decoder: Decoder,
    audio: &AudioContext,
    bias: &Bias,
    tokens: &[u32],
) -> Result<Vec<u32>> {
    let manifest = decoder.model.manifest();
    let vocab = manifest.decoder.vocab_size;
    let prompt = decoder.prompt;
    let room = manifest.decoder.max_positions - prompt.len();
    let eot = manifest.tokens.end_of_text;
    let at = |rows: &[f32], j: usize, t: u32| logprob(rows, vocab, j, t);
    let mut text = tokens.to_vec();
    let mut placed: Vec<(usize, usize)> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let fed: Vec<u32> = prompt.iter().chain(&text).copied().collect();
        let mut cache = KvCache::default();
        let all = next_token_logprobs(decoder, audio, &fed, &mut cache)?;
        // Row j: the token after text[..j] (row 0: after the prompt).
        let rows = &all[(prompt.len() - 1) * vocab..];
        let mut variants = candidates(decoder, bias, &text, rows, &placed);
        variants.sort_by(|a, b| b.room.total_cmp(&a.room).then(b.first.total_cmp(&a.first)));
        variants.truncate(MAX_VARIANTS);
        let mut best: Option<(f32, Variant)> = None;
        for v in variants {
            let written = &bias.term_tokens()[v.term].written;
            let tail_end = (v.end + TAIL_TOKENS).min(text.len());
            let ends = tail_end == text.len();
            if text.len() - (v.end - v.start) + written.len() >= room {
                continue;
            }
            // The text's own score over the span and the tail (and its end, when the tail reaches it) ...
            let before: f32 = (v.start..tail_end)
                .map(|j| at(rows, j, text[j]))
                .sum::<f32>()
                + if ends { at(rows, text.len(), eot) } else { 0.0 };
            // ... against the term's and the same tail's after it.
            let fed: Vec<u32> = written
                .iter()
                .chain(&text[v.end..tail_end])
                .copied()
                .collect();
            let Some(&first) = fed.first() else { continue };
            let mut prefix = cache.try_prefix(prompt.len() + v.start)?;
            let after_rows = next_token_logprobs(decoder, audio, &fed, &mut prefix)?;
            let after = at(rows, v.start, first)
                + (1..fed.len())
                    .map(|i| at(&after_rows, i - 1, fed[i]))
                    .sum::<f32>()
                + if ends {
                    at(&after_rows, fed.len() - 1, eot)
                } else {
                    0.0
                };
            let gain = after - before;
            if gain > -v.allowed_loss && best.as_ref().is_none_or(|(g, _)| gain > *g) {
                best = Some((gain, v));
            }
        }
        let Some((_, v)) = best else { break };
        let written = &bias.term_tokens()[v.term].written;
        let shift = |i: usize| {
            if i >= v.end {
                i + written.len() + v.start - v.end
            } else {
                i
            }
        };
        placed = placed
            .into_iter()
            .map(|(a, b)| (shift(a), shift(b)))
            .collect();
        placed.push((v.start, v.start + written.len()));
        text.splice(v.start..v.end, written.iter().copied());
    }
    Ok(text)
}

/// Log-probability of token `t` in row `j` of `rows` (`vocab` wide); minus infinity outside them.
pub(crate) fn logprob(rows: &[f32], vocab: usize, j: usize, t: u32) -> f32 {
    rows.get(j * vocab + t as usize)
        .copied()
        .unwrap_or(f32::NEG_INFINITY)
}

/// Token ranges of `text` that are one of `spellings`.
pub(crate) fn occurrences<'a>(
    text: &[u32],
    spellings: impl IntoIterator<Item = &'a Vec<u32>>,
) -> Vec<(usize, usize)> {
    spellings
        .into_iter()
        .flat_map(|s| {
            text.windows(s.len())
                .enumerate()
                .filter(move |(_, w)| *w == s.as_slice())
                .map(move |(j, _)| (j, j + s.len()))
        })
        .collect()
}

/// The places worth scoring each term that is not yet in `text`. `rows` are the model's log-probabilities over
/// `text`; spans overlapping a term placed earlier are left alone.
fn candidates(
    decoder: Decoder,
    bias: &Bias,
    text: &[u32],
    rows: &[f32],
    placed: &[(usize, usize)],
) -> Vec<Variant> {
    let vocab = decoder.model.manifest().decoder.vocab_size;
    let at = |j: usize, t: u32| logprob(rows, vocab, j, t);
    let token_logprob: Vec<f32> = text.iter().enumerate().map(|(j, &t)| at(j, t)).collect();
    let listed = occurrences(text, bias.spellings());
    let mut words: Vec<usize> = (0..text.len())
        .filter(|&j| j == 0 || decoder.vocabulary.starts_word(text[j]))
        .collect();
    let starts = words.len();
    words.push(text.len());
    let overlaps =
        |ranges: &[(usize, usize)], a: usize, b: usize| ranges.iter().any(|&(s, e)| a < e && s < b);
    let mut out = Vec::new();
    // How each span sounds, computed once for all terms.
    let mut sounds: HashMap<(usize, usize), Sound> = HashMap::new();
    for (term, tokens) in bias.term_tokens().iter().enumerate() {
        if !occurrences(text, &tokens.spellings).is_empty() {
            continue;
        }
        for w in 0..starts {
            let a = words[w];
            let first = tokens
                .spellings
                .iter()
                .filter_map(|s| s.first())
                .map(|&t| at(a, t))
                .fold(f32::NEG_INFINITY, f32::max);
            if first <= FIRST_TOKEN_FLOOR {
                continue;
            }
            for k in 1..=MAX_SPAN_WORDS.min(starts - w) {
                let mut b = words[w + k];
                while b > a && decoder.vocabulary.is_punctuation(text[b - 1]) {
                    b -= 1;
                }
                if b == a || overlaps(placed, a, b) {
                    continue;
                }
                let margin = first - token_logprob[a..b].iter().sum::<f32>();
                if margin <= SPAN_MARGIN_FLOOR {
                    continue;
                }
                let allowed_loss = if overlaps(&listed, a, b) {
                    0.0
                } else {
                    ACCEPT_LOSS
                };
                let sound = sounds
                    .entry((a, b))
                    .or_insert_with(|| Sound::of(&decoder.vocabulary.detokenize(&text[a..b])));
                let room = listed::allowed_loss(sound.distance(&tokens.sound))
                    .unwrap_or(f32::NEG_INFINITY);
                out.push(Variant {
                    start: a,
                    end: b,
                    term,
                    allowed_loss,
                    first,
                    room,
                });
            }
        }
    }
    out
}
