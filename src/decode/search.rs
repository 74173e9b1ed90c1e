//! Token search over the decoder: greedy (beam size 1) and beam search, with Whisper's suppression rules.
//!
//! Rules as in faster-whisper / openai-whisper (`whisper/decoding.py`, `SuppressTokens`, `SuppressBlank`,
//! <https://github.com/openai/whisper/blob/c09a7ae299c4c34c5839a76380ae407e7d785914/whisper/decoding.py>): the manifest's
//! `suppress` ids and every timestamp id at every step; `suppress_at_begin` at the first step; stop at end-of-text.
//! Beam scores are summed log-probabilities; finished hypotheses are ranked by score / length (length penalty 1), and
//! the search goes on past `beam_size` finished ones, for at most [`EXTRA_STEPS`], while a live beam could still
//! outrank the best of them (its score over its length if it ended at the next step): stopping at the first
//! `beam_size` endings, as openai-whisper does, let hypotheses that ended a step or two early (without the final
//! period, or a comma and a short word) fill the list before the full sentence could end. The cap keeps a looping
//! beam, whose repeated tokens score well per token, from running on until it ends and wins.
//! The live hypotheses are the rows of one decoder batch: a beam of width k costs one decoder call per token, not k.

use super::{Bias, Decoder};
use crate::error::Result;
use crate::model::{AudioContext, KvCache, Manifest};

/// The result of searching one segment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hypothesis {
    /// Text token ids (no prompt, no end-of-text).
    pub tokens: Vec<u32>,
    /// Sum of the chosen tokens' log-probabilities (end-of-text included when reached).
    pub sum_logprob: f32,
    /// Probability of the no-speech token at the first step (before suppression).
    pub no_speech_prob: f32,
    /// True when the search stopped at `max_tokens` instead of end-of-text.
    pub hit_token_cap: bool,
    /// Decoder calls made (one per token step: a beam's hypotheses go in one batched call).
    pub decoder_calls: usize,
}

impl Hypothesis {
    /// Mean log-probability per token (faster-whisper's `avg_logprob`).
    pub fn avg_logprob(&self) -> f32 {
        self.sum_logprob / (self.tokens.len() + 1) as f32
    }

    /// Mean log-probability of the tokens after the first `forced` (a forced prefix is fed, not scored), end-of-text
    /// included.
    pub fn avg_logprob_after(&self, forced: usize) -> f32 {
        self.sum_logprob / (self.tokens.len().saturating_sub(forced) + 1) as f32
    }
}

/// The live hypotheses: row i of the cache and of the logits belongs to `tokens[i]` and `scores[i]`.
struct Beams {
    tokens: Vec<Vec<u32>>,
    scores: Vec<f32>,
    cache: KvCache,
    /// `rows x vocab`: the next-token logits of each row (masked by the token rules once `choose` has run).
    logits: Vec<f32>,
}

/// Masks the suppressed ids of one logits row (in place).
struct TokenRules {
    suppress: Vec<usize>,
    suppress_at_begin: Vec<usize>,
    timestamp_begin: usize,
}

impl TokenRules {
    fn new(manifest: &Manifest) -> TokenRules {
        let t = &manifest.tokens;
        TokenRules {
            suppress: t.suppress.iter().map(|&id| id as usize).collect(),
            suppress_at_begin: t.suppress_at_begin.iter().map(|&id| id as usize).collect(),
            timestamp_begin: t.timestamp_begin as usize,
        }
    }

    fn apply(&self, row: &mut [f32], first_step: bool) {
        let begin: &[usize] = if first_step {
            &self.suppress_at_begin
        } else {
            &[]
        };
        for &id in self.suppress.iter().chain(begin) {
            if let Some(v) = row.get_mut(id) {
                *v = f32::NEG_INFINITY;
            }
        }
        if let Some(tail) = row.get_mut(self.timestamp_begin..) {
            tail.fill(f32::NEG_INFINITY);
        }
    }
}

/// In-place log-softmax; returns nothing, the row becomes log-probabilities.
pub(super) fn log_softmax(row: &mut [f32]) {
    let log_sum = log_sum_exp(row);
    row.iter_mut().for_each(|v| *v -= log_sum);
}

/// Lanes of [`log_sum_exp`]: independent maxima and sums the compiler can keep in vector registers.
const LANES: usize = 8;

/// `ln(sum(exp(row)))`, so entry i's log-probability is `row[i] - log_sum_exp(row)` (negative infinity for an empty
/// or fully masked row). Every decoder step runs it over each row's 51,864 logits; with eight lanes and
/// [`exp_nonpositive`] instead of `f32::exp` it takes 54 us per row against 190 us for the scalar loop (this
/// machine), within 1e-5 of a double-precision sum.
pub(super) fn log_sum_exp(row: &[f32]) -> f32 {
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    let mut maxima = [f32::NEG_INFINITY; LANES];
    for chunk in chunks.clone() {
        for (m, &v) in maxima.iter_mut().zip(chunk) {
            *m = if v > *m { v } else { *m };
        }
    }
    let max = maxima
        .iter()
        .chain(tail)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    let mut sums = [0.0f32; LANES];
    for chunk in chunks {
        for (s, &v) in sums.iter_mut().zip(chunk) {
            *s += exp_nonpositive(v - max);
        }
    }
    let rest: f32 = tail.iter().map(|&v| exp_nonpositive(v - max)).sum();
    max + (sums.iter().sum::<f32>() + rest).ln()
}

/// `exp(x)` for `x <= 0` (relative error under 1e-7; below -87, about 1.6e-38): Cephes' `expf` polynomial on
/// `x - n ln 2`, times `2^n` built from bits, with no branch or integer conversion so that it vectorizes.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
    let x = x.max(-87.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4; // ln 2 in two parts
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let two_to_n = f32::from_bits(shifted.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    (p * r * r + r + 1.0) * two_to_n
}

fn softmax_at(row: &[f32], index: usize) -> f32 {
    row.get(index)
        .map_or(0.0, |&v| (v - log_sum_exp(row)).exp())
}

/// Indices of the `k` largest values, largest first (masked values never).
fn top_k(row: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    let mut floor = f32::NEG_INFINITY; // the k-th best once there are k
    for (i, &v) in row.iter().enumerate() {
        if v <= floor {
            continue;
        }
        let at = best.partition_point(|&(_, b)| b >= v);
        best.insert(at, (i, v));
        best.truncate(k);
        if best.len() == k {
            floor = best.last().map_or(floor, |&(_, v)| v);
        }
    }
    best
}

/// A token prefix for a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix<'a> {
    /// No prefix: a plain search.
    None,
    /// The tokens are forced after the prompt (the committed text of a live segment's partials): the result starts
    /// with them, and they are fed in the first decoder call.
    Forced(&'a [u32]),
}

/// Search one encoded segment. `beam_size` 1 is greedy; `max_tokens` caps the text tokens (prefix included).
pub fn search(
    decoder: Decoder,
    audio: &AudioContext,
    beam_size: usize,
    max_tokens: usize,
    prefix: Prefix,
) -> Result<Hypothesis> {
    // Without `give_up_on_early_miss` the search always returns a hypothesis.
    Ok(
        search_unless_draft_missed_early(decoder, audio, beam_size, max_tokens, prefix, false)?
            .unwrap_or_default(),
    )
}

/// A greedy search with the decoder's draft that gives up after its first decoder call when it does not keep the
/// first half of the draft (`None`); otherwise, or without a draft, the search [`search`] makes.
pub(crate) fn greedy_unless_draft_missed_early(
    decoder: Decoder,
    audio: &AudioContext,
    max_tokens: usize,
    prefix: Prefix,
) -> Result<Option<Hypothesis>> {
    search_unless_draft_missed_early(decoder, audio, 1, max_tokens, prefix, true)
}

fn search_unless_draft_missed_early(
    decoder: Decoder,
    audio: &AudioContext,
    beam_size: usize,
    max_tokens: usize,
    prefix: Prefix,
    give_up_on_early_miss: bool,
) -> Result<Option<Hypothesis>> {
    let manifest = decoder.model.manifest();
    let eot = manifest.tokens.end_of_text;
    let max_tokens = max_tokens.min(manifest.decoder.max_positions - decoder.prompt.len());
    let beam_size = beam_size.max(1);
    let rules = TokenRules::new(manifest);
    let prefix = match prefix {
        Prefix::None => &[][..],
        Prefix::Forced(p) => &p[..p.len().min(max_tokens)],
    };
    // A draft is checked by greedy searches only: a beam's rows and a bias's fusion choose otherwise.
    let draft = match decoder.draft {
        d if beam_size == 1 && decoder.bias.is_none() => {
            &d[..d.len().min(max_tokens - prefix.len())]
        }
        _ => &[][..],
    };
    let (mut beams, no_speech_prob) = first_step(decoder, audio, prefix, draft)?;
    let vocab = manifest.decoder.vocab_size;
    let accepted = accept_draft(&mut beams, draft, &rules, prefix.is_empty(), vocab)?;
    if give_up_on_early_miss && !draft.is_empty() && 2 * accepted <= draft.len() {
        return Ok(None);
    }
    let mut decoder_calls = 1;
    let mut finished: Vec<(Vec<u32>, f32)> = Vec::new();
    let mut extra_steps = 0;
    for step in prefix.len() + accepted..=max_tokens {
        let chosen = choose(
            &mut beams,
            &mut finished,
            &rules,
            decoder.bias,
            step == 0,
            beam_size,
            eot,
        );
        if finished.len() >= beam_size {
            extra_steps += 1;
        }
        if chosen.is_empty()
            || step == max_tokens
            || extra_steps > EXTRA_STEPS
            || settled(&finished, &chosen, &beams, beam_size)
        {
            break;
        }
        decoder_calls += 1;
        beams = extend(decoder, audio, beams, chosen)?;
    }
    let hit_token_cap = finished.is_empty();
    if hit_token_cap {
        finished.extend(beams.tokens.into_iter().zip(beams.scores));
    }
    let (tokens, sum_logprob) = finished
        .into_iter()
        .max_by(|a, b| rank(a).total_cmp(&rank(b)))
        .unwrap_or_default();
    Ok(Some(Hypothesis {
        tokens,
        sum_logprob,
        no_speech_prob,
        hit_token_cap,
        decoder_calls,
    }))
}

/// A finished hypothesis's rank: its score over its length, end-of-text counted (length penalty 1).
fn rank((tokens, score): &(Vec<u32>, f32)) -> f32 {
    score / (tokens.len() + 1) as f32
}

/// Steps a beam search may take after `beam_size` hypotheses have finished (a comma and a word, a final period).
const EXTRA_STEPS: usize = 4;

/// The search is over: `beam_size` hypotheses finished, and none of the continuations in `chosen` could outrank the
/// best of them by ending at the next step (its rank then is at most its score over its length plus one).
fn settled(
    finished: &[(Vec<u32>, f32)],
    chosen: &[(usize, u32, f32)],
    beams: &Beams,
    beam_size: usize,
) -> bool {
    if finished.len() < beam_size {
        return false;
    }
    let best = finished.iter().map(rank).fold(f32::NEG_INFINITY, f32::max);
    chosen.iter().all(|&(b, _, score)| {
        let length = beams.tokens[b].len() + 1; // with the chosen token
        score / (length + 1) as f32 <= best
    })
}

/// Feed `fed` after `cache` in one decoder call and return, for each fed token, the model's log-probabilities of
/// the token after it (`fed.len()` rows, `vocab_size` wide), under the search's suppression rules (those of the
/// first step on the row after the prompt, when `cache` starts empty).
pub(crate) fn next_token_logprobs(
    decoder: Decoder,
    audio: &AudioContext,
    fed: &[u32],
    cache: &mut KvCache,
) -> Result<Vec<f32>> {
    let manifest = decoder.model.manifest();
    let vocab = manifest.decoder.vocab_size;
    let first = cache.is_empty().then(|| decoder.prompt.len() - 1);
    let mut rows = Vec::with_capacity(fed.len() * vocab);
    decoder.step(audio, fed, cache, &mut rows)?;
    let rules = TokenRules::new(manifest);
    for (j, row) in rows.chunks_mut(vocab).enumerate() {
        rules.apply(row, first == Some(j));
        log_softmax(row);
    }
    Ok(rows)
}

/// The first decoder call: the prompt, the prefix and the draft together. The row of the prompt's
/// start-of-transcript token gives the no-speech probability (row 0 unless the prompt begins with previous text); the
/// logits kept are the rows after the prefix and after each draft token (`draft.len() + 1` rows).
fn first_step(
    decoder: Decoder,
    audio: &AudioContext,
    prefix: &[u32],
    draft: &[u32],
) -> Result<(Beams, f32)> {
    let manifest = decoder.model.manifest();
    let vocab = manifest.decoder.vocab_size;
    let fed: Vec<u32> = decoder
        .prompt
        .iter()
        .chain(prefix)
        .chain(draft)
        .copied()
        .collect();
    let mut cache = KvCache::default();
    let mut logits = Vec::with_capacity(fed.len() * vocab);
    decoder.step(audio, &fed, &mut cache, &mut logits)?;
    let sot = fed
        .iter()
        .position(|&t| t == manifest.tokens.start_of_transcript)
        .unwrap_or(0);
    let no_speech_prob = softmax_at(
        &logits[sot * vocab..(sot + 1) * vocab],
        manifest.tokens.no_speech as usize,
    );
    logits.drain(..(fed.len() - 1 - draft.len()) * vocab);
    let first = Beams {
        tokens: vec![prefix.to_vec()],
        scores: vec![0.0],
        cache,
        logits,
    };
    Ok((first, no_speech_prob))
}

/// Greedy search with a draft (the tokens the last partial decode chose): keep the longest start of the draft that
/// the search chooses itself, each token the best of its row under the same rules (an end-of-text on top ends the
/// check, as it would end the search), so those steps cost no decoder call of their own. Leaves `beams` as the
/// search would be after the accepted tokens: their scores summed, the cache cut after them, and the logits of the
/// next row. Returns how many tokens were accepted.
fn accept_draft(
    beams: &mut Beams,
    draft: &[u32],
    rules: &TokenRules,
    at_start: bool,
    vocab: usize,
) -> Result<usize> {
    if draft.is_empty() {
        return Ok(0);
    }
    let mut accepted = 0;
    let mut score = 0.0;
    for (i, (&token, row)) in draft.iter().zip(beams.logits.chunks_mut(vocab)).enumerate() {
        rules.apply(row, at_start && i == 0);
        if top_k(row, 1).first().map(|&(t, _)| t) != Some(token as usize) {
            break;
        }
        score += row[token as usize] - log_sum_exp(row);
        accepted += 1;
    }
    beams
        .logits
        .copy_within(accepted * vocab..(accepted + 1) * vocab, 0);
    beams.logits.truncate(vocab);
    beams.tokens[0].extend_from_slice(&draft[..accepted]);
    beams.scores[0] = score;
    if accepted < draft.len() {
        beams.cache = beams
            .cache
            .try_prefix(beams.cache.len() - (draft.len() - accepted))?;
    }
    Ok(accepted)
}

/// Score every live beam's next tokens; best first, an end-of-text finishes its hypothesis (into `finished`, up to
/// `beam_size`), anything else continues it, until `beam_size` continue (openai-whisper's
/// `BeamSearchDecoder.update`). Returns the continuations: (parent row, token, score).
fn choose(
    beams: &mut Beams,
    finished: &mut Vec<(Vec<u32>, f32)>,
    rules: &TokenRules,
    bias: Option<&Bias>,
    first_step: bool,
    beam_size: usize,
    eot: u32,
) -> Vec<(usize, u32, f32)> {
    let vocab = beams.logits.len() / beams.tokens.len().max(1);
    let mut candidates: Vec<(usize, u32, f32)> = Vec::new();
    let rows = beams.logits.chunks_mut(vocab.max(1));
    for (b, ((tokens, &score), row)) in beams.tokens.iter().zip(&beams.scores).zip(rows).enumerate()
    {
        rules.apply(row, first_step);
        // The row stays logits: the bias adds to single tokens, and only the chosen ones need their log-probability.
        let log_sum = log_sum_exp(row);
        let credit = match bias {
            Some(bias) if beam_size > 1 => {
                bias.apply(tokens, row);
                bias.pending_credit(tokens)
            }
            Some(bias) => {
                bias.apply(tokens, row);
                0.0
            }
            None => 0.0,
        };
        for (token, logit) in top_k(row, beam_size + 1) {
            let mut score = score + logit - log_sum;
            if credit > 0.0 {
                // Leaving a term begun earlier (or ending the text inside it) takes its bonus back.
                let mut next = tokens.clone();
                next.push(token as u32);
                let stays = bias.is_some_and(|bias| {
                    bias.completes(&next)
                        || token as u32 != eot && bias.pending_credit(&next) > credit
                });
                if !stays {
                    score -= credit;
                }
            }
            candidates.push((b, token as u32, score));
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut chosen = Vec::new();
    for (b, token, score) in candidates {
        if token == eot {
            // The best `beam_size` endings by rank are kept.
            finished.push((beams.tokens[b].clone(), score));
            if finished.len() > beam_size {
                if let Some(worst) = (0..finished.len())
                    .min_by(|&i, &j| rank(&finished[i]).total_cmp(&rank(&finished[j])))
                {
                    finished.swap_remove(worst);
                }
            }
        } else {
            chosen.push((b, token, score));
            if chosen.len() == beam_size {
                break;
            }
        }
    }
    chosen
}

/// One batched decoder step for every continuation: row i of the new cache is its parent's row (a parent with
/// several continuations is copied into several rows; when each row continues once, in order, nothing is copied).
fn extend(
    decoder: Decoder,
    audio: &AudioContext,
    beams: Beams,
    chosen: Vec<(usize, u32, f32)>,
) -> Result<Beams> {
    let parents: Vec<usize> = chosen.iter().map(|&(b, _, _)| b).collect();
    let fed: Vec<u32> = chosen.iter().map(|&(_, token, _)| token).collect();
    let same_rows =
        parents.len() == beams.tokens.len() && parents.iter().enumerate().all(|(i, &b)| i == b);
    let mut cache = if same_rows {
        beams.cache
    } else {
        beams.cache.select(&parents)?
    };
    let tokens = chosen
        .iter()
        .map(|&(b, token, _)| {
            let mut t = beams.tokens[b].clone();
            t.push(token);
            t
        })
        .collect();
    // The logits buffer is reused: a fresh 200 KB-per-row buffer each step costs page faults.
    let mut logits = beams.logits;
    decoder.step(audio, &fed, &mut cache, &mut logits)?;
    Ok(Beams {
        tokens,
        scores: chosen.iter().map(|&(_, _, score)| score).collect(),
        cache,
        logits,
    })
}

#[cfg(test)]
mod tests {
    use super::{exp_nonpositive, log_softmax, log_sum_exp, top_k, Hypothesis};

    #[test]
    fn the_mean_after_a_forced_prefix_counts_only_the_scored_tokens() {
        let h = Hypothesis {
            tokens: vec![1, 2, 3, 4, 5],
            sum_logprob: -3.0,
            ..Hypothesis::default()
        };
        assert_eq!(h.avg_logprob(), -0.5); // 5 tokens + end-of-text
        assert_eq!(h.avg_logprob_after(0), -0.5);
        assert_eq!(h.avg_logprob_after(3), -1.0); // 2 scored tokens + end-of-text
        assert_eq!(h.avg_logprob_after(9), -3.0); // a prefix cut by the token cap: end-of-text alone
    }

    #[test]
    fn top_k_orders_and_skips_masked() {
        let row = [0.1, f32::NEG_INFINITY, 3.0, 2.0, -1.0];
        assert_eq!(top_k(&row, 2), vec![(2, 3.0), (3, 2.0)]);
        assert_eq!(top_k(&row, 9).len(), 4);
    }

    #[test]
    fn log_softmax_sums_to_one() {
        let mut row = [1.0f32, 2.0, 3.0, f32::NEG_INFINITY];
        log_softmax(&mut row);
        let total: f32 = row.iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6);
        assert_eq!(row[3], f32::NEG_INFINITY);
    }

    #[test]
    fn the_vector_exp_matches_the_library_exp() {
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let (fast, exact) = (f64::from(exp_nonpositive(x)), f64::from(x).exp());
            assert!(
                (fast - exact).abs() <= 2e-7 * exact,
                "exp({x}): {fast} vs {exact}"
            );
        }
        assert!(exp_nonpositive(f32::NEG_INFINITY) < 1e-37);
    }

    #[test]
    fn log_sum_exp_matches_a_double_precision_sum() {
        // A logits-like row: a spread of values, a masked tail, a length that is not a multiple of the lanes.
        let mut row: Vec<f32> = (0..51_861)
            .map(|i| ((i * 7919) % 4001) as f32 / 100.0 - 20.0)
            .collect();
        row[51_000..].fill(f32::NEG_INFINITY);
        let max = f64::from(row.iter().copied().fold(f32::NEG_INFINITY, f32::max));
        let exact = max
            + row
                .iter()
                .map(|&v| (f64::from(v) - max).exp())
                .sum::<f64>()
                .ln();
        assert!(
            (f64::from(log_sum_exp(&row)) - exact).abs() < 1e-5,
            "{} vs {exact}",
            log_sum_exp(&row)
        );
        assert_eq!(log_sum_exp(&[f32::NEG_INFINITY; 3]), f32::NEG_INFINITY);
        assert_eq!(log_sum_exp(&[]), f32::NEG_INFINITY);
        assert!((log_sum_exp(&[0.0, 0.0]) - std::f32::consts::LN_2).abs() < 1e-7);
    }
}
