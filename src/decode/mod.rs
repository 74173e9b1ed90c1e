//! Decoding one segment of MFCC frames into text: encoder bucket, token search, guards and fallback, no-speech gate.

mod bias;
mod guards;
mod language;
mod listed;
mod phonetic;
mod search;
mod term_check;
mod vocabulary;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use bias::{Bias, VocabularyConfig};
pub use guards::Guard;
pub use language::{language_name, Prompter, SpokenLanguage, Task, AUTO};
use search::greedy_unless_draft_missed_early;
pub use search::{search, Hypothesis, Prefix};
pub use vocabulary::Vocabulary;

use crate::error::{ConfigSource, Result};
use crate::model::{AudioContext, KvCache, Model, Padding};
use crate::timings::TimingRecorder;

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
    /// ... and its average token log-probability is below this (faster-whisper's rule; its 0.6 and -1.0 let
    /// clicks through as "you" and a tone as "beep beep beep", docs/DESIGN.md).
    pub logprob_threshold: f32,
    /// The same two limits for partial results (faster-whisper's 0.6 and -1.0 by default): the first partial of a
    /// segment is decoded from 200 ms of speech and is often unsure; the finals' limits delayed it.
    pub partial_no_speech_threshold: f32,
    /// See [`DecodeOptions::partial_no_speech_threshold`].
    pub partial_logprob_threshold: f32,
    /// A final decoded with a narrower beam than this (greedy) whose average token log-probability is below
    /// `fallback_logprob` is searched again with this beam width on the same encoder output; 1 turns it off.
    /// The decode-time counterpart of whisper.cpp's and faster-whisper's temperature fallback. With a vocabulary
    /// list, the biased search of a final uses this beam (and gets the term check).
    pub fallback_beam_size: usize,
    /// See `fallback_beam_size`.
    pub fallback_logprob: f32,
    /// A final below `fallback_logprob` is also searched (with the wider of `beam_size` and `fallback_beam_size`) in
    /// an encoder window of at least this many frames, padded as Whisper pads (silence at the clamp floor, the
    /// model's training input), and that text is kept when its average token log-probability is higher; 0 turns it
    /// off. Costs an encoder call in that window (30 s: 8x a 5 s call, and about 1.5x the peak memory).
    pub fallback_window_frames: usize,
    /// The language spoken: a code the pack knows ("en", "de", ...), or `auto` to detect it (multilingual packs; an
    /// English-only pack takes `auto` or `en`).
    pub language: String,
    /// With `language = "auto"`, the languages detection may pick (empty: every language of the pack).
    pub languages: Vec<String>,
    /// `transcribe` (text in the language spoken) or `translate` (English text; multilingual packs).
    pub task: Task,
    /// With `language = "auto"`, a stream keeps the language detected on its first final (`true`) or detects it
    /// on every segment (`false`).
    pub keep_language: bool,
    /// With `language = "auto"`, a final unsure of its language (see `language_recheck_below`) detects it again in an
    /// encoder window of at least this many frames, padded as Whisper pads (3000 = 30 s, as Whisper does it: an
    /// extra encoder call); 0 never does. Partials always detect on their own window.
    pub language_window_frames: usize,
    /// With `language = "auto"`, a final first detects its language on the window it is decoded in, and pays for the
    /// `language_window_frames` window only when that language's probability is below this (1 always pays, 0
    /// never): on the multilingual dev corpus every clip sure at 0.8 or more got the language the 30 s window gives.
    pub language_recheck_below: f32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_size: 1,
            max_tokens_base: 10,
            max_tokens_per_second: 6.0,
            max_compression_ratio: 2.4,
            min_window_frames: 500,
            fallback_frames: 1000,
            no_speech_threshold: 0.45,
            logprob_threshold: -0.8,
            partial_no_speech_threshold: 0.6,
            partial_logprob_threshold: -1.0,
            fallback_beam_size: 5,
            fallback_logprob: -0.2,
            fallback_window_frames: 0,
            language: AUTO.to_string(),
            languages: Vec::new(),
            task: Task::Transcribe,
            keep_language: false,
            language_window_frames: 3000,
            language_recheck_below: 0.9,
        }
    }
}

/// The outcome of decoding one segment.
#[derive(Debug, Clone)]
pub struct SegmentDecode {
    /// Text; empty when the segment was judged not to be speech.
    pub text: String,
    /// The hypothesis the text came from.
    pub hypothesis: Hypothesis,
    /// True when the text was dropped: the no-speech gate, or every search looped on audio the model does not hear as
    /// speech (a runaway).
    pub no_speech: bool,
    /// The guard that tripped on the first decode (the text then comes from the fallback window, the wider beam or
    /// the loop cut).
    pub guard: Option<Guard>,
    /// True when the text comes from the wider beam (`fallback_beam_size`): the low-confidence re-search, kept, or
    /// a final's search that went to it at once (its draft was unsure, or its greedy search missed the first half of
    /// the draft).
    pub beam_fallback: bool,
    /// True when the text comes from the low-confidence search in the wider window (`fallback_window_frames`).
    pub window_fallback: bool,
    /// True when every search looped (the fallback window, and the wider beam) on audio the model hears as speech,
    /// and the text is the first copy of the loop.
    pub loop_cut: bool,
    /// The language the segment was decoded in (detected, or as given).
    pub language: SpokenLanguage,
    /// Encoder wall time (all attempts).
    pub encoder_time: Duration,
    /// Decoder wall time (all attempts).
    pub decoder_time: Duration,
}

/// What one segment decode needs: the model, the detokenizer and the stream's timing recorder. Every encoder
/// call, decoder call and detokenization goes through here, so the timings are those of one stream.
#[derive(Clone, Copy)]
pub struct Decoder<'a> {
    /// The shared model.
    pub model: &'a Model,
    /// The detokenizer.
    pub vocabulary: &'a Vocabulary,
    /// Where the per-stage times go (off unless a benchmark switched it on).
    pub timings: &'a TimingRecorder,
    /// The stream's vocabulary bias, if it has one.
    pub bias: Option<&'a Bias>,
    /// How each segment's prompt (language and task) is chosen.
    pub prompter: &'a Prompter,
    /// The decoder prompt of the segment being decoded (set by [`decode_segment`] from `prompter`).
    pub prompt: &'a [u32],
    /// Tokens a greedy search expects after its forced prefix (a live segment's last partial): it checks them all
    /// in its first decoder call and keeps the longest start it would have chosen itself, so those steps cost no
    /// call of their own. Empty: no draft. A beam search or a biased one ignores it.
    pub draft: &'a [u32],
    /// The draft came from an unsure decode: a final that would fall back to the wider beam when unsure
    /// (`fallback_beam_size`) goes to it at once, without the greedy search.
    pub draft_unsure: bool,
}

impl Decoder<'_> {
    /// Run the encoder (see [`Model::encode`]), timed.
    pub fn encode(
        &self,
        frames: &[f32],
        padded_frames: usize,
        padding: Padding,
    ) -> Result<AudioContext> {
        let started = Instant::now();
        let audio = self.model.encode_padded(frames, padded_frames, padding)?;
        self.timings.encoder(padded_frames, started.elapsed());
        Ok(audio)
    }

    /// One decoder step (see [`Model::decode_step`]), timed.
    pub fn step(
        &self,
        audio: &AudioContext,
        tokens: &[u32],
        cache: &mut KvCache,
        logits: &mut Vec<f32>,
    ) -> Result<()> {
        let started = Instant::now();
        self.model.decode_step(audio, tokens, cache, logits)?;
        self.timings.decoder_call(started.elapsed());
        Ok(())
    }

    /// Token ids to text, timed.
    pub fn detokenize(&self, ids: &[u32]) -> String {
        let started = Instant::now();
        let mut text = self.vocabulary.detokenize(ids);
        if let Some(bias) = self.bias {
            text = bias.respell(&text);
        }
        self.timings.detokenize(started.elapsed());
        text
    }
}

impl DecodeOptions {
    /// Check every field's range; the error names the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        use crate::error::check_range as check;
        check(origin, "decode.beam_size", self.beam_size, 1, 16)?;
        check(
            origin,
            "decode.max_tokens_base",
            self.max_tokens_base,
            1,
            224,
        )?;
        check(
            origin,
            "decode.max_tokens_per_second",
            self.max_tokens_per_second,
            1.0,
            50.0,
        )?;
        check(
            origin,
            "decode.max_compression_ratio",
            self.max_compression_ratio,
            1.0,
            100.0,
        )?;
        check(
            origin,
            "decode.min_window_frames",
            self.min_window_frames,
            0,
            3000,
        )?;
        check(
            origin,
            "decode.fallback_frames",
            self.fallback_frames,
            0,
            3000,
        )?;
        check(
            origin,
            "decode.no_speech_threshold",
            self.no_speech_threshold,
            0.0,
            1.0,
        )?;
        check(
            origin,
            "decode.logprob_threshold",
            self.logprob_threshold,
            -100.0,
            0.0,
        )?;
        check(
            origin,
            "decode.partial_no_speech_threshold",
            self.partial_no_speech_threshold,
            0.0,
            1.0,
        )?;
        check(
            origin,
            "decode.partial_logprob_threshold",
            self.partial_logprob_threshold,
            -100.0,
            0.0,
        )?;
        check(
            origin,
            "decode.fallback_beam_size",
            self.fallback_beam_size,
            1,
            16,
        )?;
        check(
            origin,
            "decode.fallback_logprob",
            self.fallback_logprob,
            -100.0,
            0.0,
        )?;
        check(
            origin,
            "decode.fallback_window_frames",
            self.fallback_window_frames,
            0,
            3000,
        )?;
        check(
            origin,
            "decode.language_window_frames",
            self.language_window_frames,
            0,
            3000,
        )?;
        check(
            origin,
            "decode.language_recheck_below",
            self.language_recheck_below,
            0.0,
            1.0,
        )?;
        if self.languages.len() > 200 {
            return Err(crate::Error::config(
                origin.clone(),
                "decode.languages: at most 200 codes",
            ));
        }
        Ok(())
    }

    /// The prompter these options ask for on the pack of `manifest`; the error (naming `origin`) says what the pack
    /// cannot do.
    pub fn prompter(
        &self,
        manifest: &crate::model::Manifest,
        origin: &ConfigSource,
    ) -> Result<Prompter> {
        Prompter::new(manifest, &self.language, &self.languages, self.task)
            .map_err(|reason| crate::Error::config(origin.clone(), format!("decode: {reason}")))
    }
}

/// Decode `frames` (frame-major MFCC, `coefficients` values per frame) of one segment lasting `seconds` of audio.
/// First at the smallest bucket that holds it; if a guard trips and `fallback` is set, again with `fallback_frames`
/// (partial decodes skip it: a tripped guard there just means no partial this time), then with `fallback_beam_size`;
/// if every search loops, the text is cut after the loop's first copy when the model hears speech, else dropped.
/// A final whose mean token log-probability is below `fallback_logprob` (and that is not gated as no-speech) is
/// searched again: with `fallback_beam_size` on the same encoder output when its search was narrower, and, when
/// `fallback_window_frames` is set, also in that window padded as Whisper pads ([`Padding::ClampFloor`]), which is
/// kept when the model finds it more likely; the no-speech gate then judges the text kept. A final whose greedy
/// search does not keep the first half of the decoder's draft, or whose draft is unsure (`Decoder::draft_unsure`),
/// is searched with `fallback_beam_size` at once. With a forced prefix the no-speech gate is off (the prefix was
/// already shown as speech); a partial (`fallback` not set) is gated with the `partial_` limits. A final (`fallback`
/// set) of a stream with a vocabulary is decoded as without it, and then gets the listed terms the model accepts (see
/// `listed`); partials get the fusion bias only.
pub fn decode_segment(
    decoder: Decoder,
    frames: &[f32],
    seconds: f32,
    options: &DecodeOptions,
    prefix: Prefix,
    fallback: bool,
) -> Result<SegmentDecode> {
    let Some(bias) = decoder.bias.filter(|_| fallback) else {
        return decode_plain(decoder, frames, seconds, options, prefix, fallback).map(|(d, ..)| d);
    };
    let unbiased = Decoder {
        bias: None,
        ..decoder
    };
    let (mut decoded, audio, prompt) =
        decode_plain(unbiased, frames, seconds, options, prefix, fallback)?;
    if decoded.no_speech {
        return Ok(decoded);
    }
    let started = Instant::now();
    let tokens = listed::add_terms(
        Decoder {
            prompt: &prompt,
            ..decoder
        },
        bias,
        &audio,
        &decoded.hypothesis,
        options.beam_size.max(options.fallback_beam_size),
        token_cap(options, seconds, prefix),
        prefix,
    )?;
    decoded.text = decoder.detokenize(&tokens).trim().to_string();
    decoded.hypothesis.tokens = tokens;
    decoded.decoder_time += started.elapsed();
    Ok(decoded)
}

/// Most tokens a segment of `seconds` may decode to (beyond a forced prefix).
fn token_cap(options: &DecodeOptions, seconds: f32, prefix: Prefix) -> usize {
    options.max_tokens_base
        + (options.max_tokens_per_second * seconds.max(0.0)).ceil() as usize
        + match prefix {
            Prefix::None => 0,
            Prefix::Forced(p) => p.len(),
        }
}

/// [`decode_segment`] with the decoder's bias (if any) as fusion only; also returns the encoder output the text was
/// decoded from and the prompt it was decoded with.
fn decode_plain(
    decoder: Decoder,
    frames: &[f32],
    seconds: f32,
    options: &DecodeOptions,
    prefix: Prefix,
    fallback: bool,
) -> Result<(SegmentDecode, AudioContext, Vec<u32>)> {
    let model = decoder.model;
    let coefficients = model.manifest().frontend.mfcc_coefficients;
    let n = frames.len() / coefficients;
    let max_tokens = token_cap(options, seconds, prefix);
    let beam_size = options.beam_size;
    let mut encoder_time = Duration::ZERO;
    let mut decoder_time = Duration::ZERO;
    let first_window = model.bucket_for(n, options.min_window_frames);
    let t0 = Instant::now();
    let first_audio = decoder.encode(frames, first_window, Padding::Zero)?;
    let t1 = Instant::now();
    // The language and the task make the prompt. A segment detects its language on the window it decodes; a final
    // unsure of it there detects again in a window of `language_window_frames` padded as Whisper pads (its
    // training input).
    let (mut prompt, mut language) = decoder.prompter.resolve(decoder, &first_audio)?;
    let detect_window = model.bucket_for(n, options.language_window_frames);
    if matches!(decoder.prompter, Prompter::Detect { .. })
        && fallback
        && detect_window > first_window
        && language.probability < options.language_recheck_below
    {
        let t = Instant::now();
        let wide = decoder.encode(frames, detect_window, Padding::ClampFloor)?;
        encoder_time += t.elapsed();
        (prompt, language) = decoder.prompter.resolve(decoder, &wide)?;
    }
    let decoder = Decoder {
        prompt: &prompt,
        ..decoder
    };
    let searched = |audio: &AudioContext, beam: usize| -> Result<(Hypothesis, String)> {
        let h = search(decoder, audio, beam, max_tokens, prefix)?;
        let text = decoder.detokenize(&h.tokens);
        Ok((h, text))
    };
    let wide_beam = beam_size.max(options.fallback_beam_size);
    // A final whose greedy search does not keep the first half of its draft (the last partial's text) is nearly
    // always unsure too, and then searched again with the wider beam: it gets the wider beam at once, without the
    // rest of the greedy search (turn corpus, 467 finals: 172 of the 360 that fell back had missed the first half of
    // their draft, 8 of the 107 that did not; DESIGN.md "Unsure finals get a beam"). A miss later in the draft is
    // mostly the words the last partial had not heard yet. A final whose draft came from an unsure decode goes to the
    // wider beam without any greedy call (the stream's `UNSURE_PARTIAL_LOGPROB`).
    let mut calls = 0;
    let may_widen_at_once = fallback && beam_size == 1 && wide_beam > beam_size;
    let greedy = if may_widen_at_once && decoder.draft_unsure {
        None
    } else if may_widen_at_once {
        let greedy = greedy_unless_draft_missed_early(decoder, &first_audio, max_tokens, prefix)?;
        if greedy.is_none() {
            calls += 1; // the greedy search's first call
        }
        greedy
    } else {
        Some(search(
            decoder,
            &first_audio,
            beam_size,
            max_tokens,
            prefix,
        )?)
    };
    let (first_beam, mut hypothesis) = match greedy {
        Some(h) => (beam_size, h),
        None => (
            wide_beam,
            search(decoder, &first_audio, wide_beam, max_tokens, prefix)?,
        ),
    };
    let mut text = decoder.detokenize(&hypothesis.tokens);
    encoder_time += t1 - t0;
    decoder_time += t1.elapsed();
    let mut audio = first_audio;
    // Encode in a window of `padded` frames and search it with `beam` hypotheses.
    let attempt = |padded: usize,
                   padding: Padding,
                   beam: usize,
                   encoder_time: &mut Duration,
                   decoder_time: &mut Duration|
     -> Result<(Hypothesis, String, AudioContext)> {
        let t0 = Instant::now();
        let audio = decoder.encode(frames, padded, padding)?;
        let t1 = Instant::now();
        let (h, text) = searched(&audio, beam)?;
        *encoder_time += t1 - t0;
        *decoder_time += t1.elapsed();
        Ok((h, text, audio))
    };
    let guard = guards::check_guards(&hypothesis, &text, options);
    let fallback_window = model.bucket_for(n, options.fallback_frames);
    // A final whose search loops: again in the wider fallback window, if there is one.
    let mut looping = fallback && guard.is_some();
    if looping && fallback_window > first_window {
        (hypothesis, text, audio) = attempt(
            fallback_window,
            Padding::Zero,
            first_beam,
            &mut encoder_time,
            &mut decoder_time,
        )?;
        looping = guards::check_guards(&hypothesis, &text, options).is_some();
    }
    calls += hypothesis.decoder_calls;
    let mut beam_fallback = first_beam > beam_size;
    // Searched again with the wider beam on the same encoder output, kept when it trips no guard.
    let mut widen = |hypothesis: &mut Hypothesis, text: &mut String| -> Result<bool> {
        let started = Instant::now();
        let wider = search(decoder, &audio, wide_beam, max_tokens, prefix)?;
        let wider_text = decoder.detokenize(&wider.tokens);
        decoder_time += started.elapsed();
        calls += wider.decoder_calls;
        let kept = guards::check_guards(&wider, &wider_text, options).is_none();
        if kept {
            (*hypothesis, *text) = (wider, wider_text);
        }
        Ok(kept)
    };
    // Still a loop: a runaway on non-speech (a tone gave "Beep Beep Beep ..."), or the greedy search's own loop on
    // speech ("Mix 1 liter up water in 4 spoons I'm sugar Mix 1 liter ..."), which a beam search often gets out of.
    // When the beam loops too but the model hears speech, the text stays, cut after the first copy of the loop (its
    // mean log-probability kept): dropping it lost whole utterances. Otherwise it is a runaway: no text.
    let beam_tried = looping && wide_beam > first_beam;
    if beam_tried {
        beam_fallback = widen(&mut hypothesis, &mut text)?;
        looping = !beam_fallback;
    }
    let mut loop_cut = false;
    // The no-speech gate's limits: a final's, or a partial's (`fallback` is false only for partials).
    let (no_speech_limit, logprob_limit) = if fallback {
        (options.no_speech_threshold, options.logprob_threshold)
    } else {
        (
            options.partial_no_speech_threshold,
            options.partial_logprob_threshold,
        )
    };
    if looping && hypothesis.no_speech_prob <= no_speech_limit {
        if let Some(end) = guards::first_copy_end(&hypothesis.tokens) {
            let mean = hypothesis.avg_logprob();
            hypothesis.tokens.truncate(end);
            hypothesis.sum_logprob = mean * (end + 1) as f32;
            hypothesis.hit_token_cap = false;
            text = decoder.detokenize(&hypothesis.tokens);
            loop_cut = true;
        }
        looping = false;
    }
    let runaway = looping;
    // The no-speech gate, on the text as first found and again on the text kept in the end (as faster-whisper
    // gates the result of its fallback): a beam that turns a melody into "Do do do" has a low log-probability.
    let gated = |h: &Hypothesis| {
        !matches!(prefix, Prefix::Forced(p) if !p.is_empty())
            && h.no_speech_prob > no_speech_limit
            && h.avg_logprob() < logprob_limit
    };
    let mut no_speech = runaway || gated(&hypothesis);
    let mut window_fallback = false;
    if fallback && !no_speech && hypothesis.avg_logprob() < options.fallback_logprob {
        if wide_beam > first_beam && !beam_tried {
            beam_fallback = widen(&mut hypothesis, &mut text)?;
        }
        let window = model.bucket_for(n, options.fallback_window_frames);
        if options.fallback_window_frames > 0 && window > first_window {
            let (wide, wide_text, wide_audio) = attempt(
                window,
                Padding::ClampFloor,
                wide_beam,
                &mut encoder_time,
                &mut decoder_time,
            )?;
            calls += wide.decoder_calls;
            if wide.avg_logprob() > hypothesis.avg_logprob()
                && guards::check_guards(&wide, &wide_text, options).is_none()
            {
                (hypothesis, text, audio, window_fallback) = (wide, wide_text, wide_audio, true);
            }
        }
        no_speech = gated(&hypothesis);
    }
    hypothesis.decoder_calls = calls;
    let text = if no_speech {
        String::new()
    } else {
        text.trim().to_string()
    };
    let decoded = SegmentDecode {
        text,
        hypothesis,
        no_speech,
        guard,
        beam_fallback,
        window_fallback,
        loop_cut,
        language,
        encoder_time,
        decoder_time,
    };
    Ok((decoded, audio, prompt))
}
