//! Endpointing: an energy voice-activity detector on MFCC frames that splits a stream into speech segments.
//!
//! Frame energy is the mean log10 mel power over the voice band (`speech_band_hz`), a fixed linear combination of the
//! MFCC coefficients (the band rows of the inverse DCT, averaged), so it needs no other data from the capture side.
//! Restricting it to the voice band keeps broadband noise from drowning speech onsets. A noise floor follows the minimum energy (instant fall, slow rise); a frame is speech when it is
//! `speech_threshold_db` above the floor. Rules, in the spirit of sherpa-onnx's endpoint rules
//! (<https://github.com/k2-fsa/sherpa-onnx/blob/124384369a72470bfc82fab16198a606d136618b/sherpa-onnx/csrc/endpoint.h>):
//! - a segment opens when at least `onset_speech_fraction` of the last `min_speech_ms` of frames are speech (a vote,
//!   not a run: in noise, speech frames flicker), with `pre_roll_ms` of audio before it;
//! - rule 1, silence after speech: it closes after `trailing_silence_ms` of silence (keeping `post_roll_ms` of it);
//!   with the `text` end-of-turn detector, the recognizer judges the turn after `turn_check_ms` of silence instead
//!   ([`Endpointer::judge`]): complete closes it at once, unfinished ("remind me to") waits `incomplete_wait_ms`;
//! - rule 2, nothing decoded: the recognizer abandons an open segment whose partial decodes gave no text for
//!   `no_text_timeout_ms` ([`Endpointer::abandon`]);
//! - rule 3, maximum length: it is cut at `max_segment_ms`, at the quietest frame of the last `split_search_ms`.
//!
//! Silence and steady noise or tones never start a segment; what does start one and turns out not to be speech is
//! dropped later by the decoder's no-speech gate.

use serde::{Deserialize, Serialize};

use crate::error::{check_range, ConfigSource, Result};

/// Frames averaged for the end-of-turn check's notion of sound (30 ms at 10 ms frames): one noise frame above the
/// level does not count, a weak consonant does. Measured on the turn corpus (benches/turns/README.md): with single
/// frames, room noise kept over 5 % of complete turns from their check; with 5 frames, decisions came 15 ms later.
const SOUND_FRAMES: usize = 3;

/// With the text detector, a segment whose loudest frame is less than this far above the noise floor (dB) is in noise:
/// its words' weak ends lie under the noise, so the post-roll and the check wait `NOISY_EXTRA_MS` longer. On the turn
/// corpus the clean copies' turns peak 38-50 dB above the floor, the 10-20 dB SNR copies' 18-30 dB; the longer waits
/// took the noisy copies' WER from 24.1 % to 22.7 % (the silence rule's: 22.8 %), see benches/turns/README.md.
const NOISY_PEAK_DB: f32 = 35.0;
const NOISY_EXTRA_MS: f32 = 50.0;

/// With the text detector, out of noise, the speculative final's decode starts this long before the post-roll is all
/// heard: the rest of the post-roll is decoded as a copy of the silence just before it (the frames after the last
/// sound are silence by definition; if a sound comes after all, the segment's end moves and the final is decoded
/// again). A beam-5 final takes about 100 ms here (encoder 40 ms, decoder 60 ms), so starting 100 ms after the last
/// sound instead of 150 has it ready at the 200 ms check (benches/turns/README.md).
const EXTRAPOLATED_POST_ROLL_MS: f32 = 50.0;

/// Endpoint rules (the `[endpoint]` table of a device profile). Durations in milliseconds of audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EndpointConfig {
    /// Mel filters with centres in this range (Hz) make up the frame energy.
    pub speech_band_hz: [f32; 2],
    /// Energy above the noise floor that counts as speech.
    pub speech_threshold_db: f32,
    /// How fast the noise floor may rise (it falls instantly).
    pub noise_floor_rise_db_per_s: f32,
    /// Window of the onset vote.
    pub min_speech_ms: u32,
    /// Fraction of the onset window's frames that must be speech to open a segment.
    pub onset_speech_fraction: f32,
    /// Audio kept before the detected onset.
    pub pre_roll_ms: u32,
    /// Rule 1: silence after speech that closes a segment (with the `silence` detector).
    pub trailing_silence_ms: u32,
    /// How the end of a turn is decided.
    pub detector: TurnDetector,
    /// With the `text` detector: silence after which the recognizer judges whether the turn is complete.
    pub turn_check_ms: u32,
    /// With the `text` detector: silence that closes a turn judged unfinished.
    pub incomplete_wait_ms: u32,
    /// With the `text` detector: silence kept after the last sound; at most `turn_check_ms` (a longer value keeps that
    /// much). The speculative final's decode starts 50 ms before its end, out of noise (`EXTRAPOLATED_POST_ROLL_MS`).
    pub turn_post_roll_ms: u32,
    /// Silence kept after the last speech frame (the `silence` detector); at most `trailing_silence_ms` (a longer value
    /// keeps that much).
    pub post_roll_ms: u32,
    /// Rule 3: longest segment (the model handles about 10 s well without timestamps).
    pub max_segment_ms: u32,
    /// Window before `max_segment_ms` searched for the quietest frame to cut at.
    pub split_search_ms: u32,
    /// Rule 2: an open segment whose partial decodes found no text for this long is dropped (noise bursts, music).
    pub no_text_timeout_ms: u32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            speech_band_hz: [250.0, 3500.0],
            speech_threshold_db: 6.0,
            noise_floor_rise_db_per_s: 3.0,
            min_speech_ms: 100,
            onset_speech_fraction: 0.6,
            pre_roll_ms: 400,
            trailing_silence_ms: 600,
            detector: TurnDetector::Silence,
            turn_check_ms: 200,
            incomplete_wait_ms: 1700,
            turn_post_roll_ms: 150,
            post_roll_ms: 300,
            max_segment_ms: 15_000,
            split_search_ms: 3_000,
            no_text_timeout_ms: 3_000,
        }
    }
}

impl EndpointConfig {
    /// This configuration with `detector`.
    pub fn with_detector(mut self, detector: TurnDetector) -> EndpointConfig {
        self.detector = detector;
        self
    }

    /// Check every field's range; the error names the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        let check =
            |field: &str, value: u32, lo: u32, hi: u32| check_range(origin, field, value, lo, hi);
        let [low, high] = self.speech_band_hz;
        check_range(origin, "endpoint.speech_band_hz[0]", low, 0.0, 20_000.0)?;
        check_range(
            origin,
            "endpoint.speech_band_hz[1]",
            high,
            low + 100.0,
            24_000.0,
        )?;
        check_range(
            origin,
            "endpoint.speech_threshold_db",
            self.speech_threshold_db,
            0.5,
            60.0,
        )?;
        check_range(
            origin,
            "endpoint.noise_floor_rise_db_per_s",
            self.noise_floor_rise_db_per_s,
            0.1,
            100.0,
        )?;
        check("endpoint.min_speech_ms", self.min_speech_ms, 10, 2_000)?;
        check_range(
            origin,
            "endpoint.onset_speech_fraction",
            self.onset_speech_fraction,
            0.1,
            1.0,
        )?;
        check("endpoint.pre_roll_ms", self.pre_roll_ms, 0, 2_000)?;
        check(
            "endpoint.trailing_silence_ms",
            self.trailing_silence_ms,
            100,
            10_000,
        )?;
        check("endpoint.turn_check_ms", self.turn_check_ms, 50, 5_000)?;
        check(
            "endpoint.incomplete_wait_ms",
            self.incomplete_wait_ms,
            self.turn_check_ms,
            10_000,
        )?;
        check("endpoint.post_roll_ms", self.post_roll_ms, 0, 10_000)?;
        check(
            "endpoint.turn_post_roll_ms",
            self.turn_post_roll_ms,
            0,
            5_000,
        )?;
        check(
            "endpoint.max_segment_ms",
            self.max_segment_ms,
            1_000,
            28_000,
        )?;
        check(
            "endpoint.split_search_ms",
            self.split_search_ms,
            0,
            self.max_segment_ms,
        )?;
        check(
            "endpoint.no_text_timeout_ms",
            self.no_text_timeout_ms,
            500,
            60_000,
        )
    }
}

/// How the end of a turn is decided once speech stops (`endpoint.detector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnDetector {
    /// The silence rule alone: a segment closes after `trailing_silence_ms` of silence.
    Silence,
    /// After `turn_check_ms` of silence the recognizer reads the text it would finalize: a sentence that cannot end
    /// there (a dangling "to", "and", "my", a trailing comma) waits up to `incomplete_wait_ms`, anything else closes
    /// at once (see `benches/turns/README.md`).
    Text,
}

/// The end-of-turn detector's verdict on the open turn at the check ([`Endpointer::judge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The turn sounds finished: it closes now.
    Complete,
    /// The sentence cannot end here: the turn waits `incomplete_wait_ms` of silence, or more speech.
    Unfinished,
    /// Nothing to judge (no text, or a language the rule does not read): the silence rule decides.
    Undecided,
}

/// Why a segment closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointRule {
    /// Rule 1: silence after speech.
    TrailingSilence,
    /// The end-of-turn detector judged the turn complete after `turn_check_ms` of silence.
    TurnComplete,
    /// Rule 2: partial decodes found no text (the segment is dropped, no final).
    NoText,
    /// Rule 3: the segment reached the maximum length.
    MaxLength,
    /// Audio was lost (ring overrun): the segment was closed at the gap.
    Gap,
    /// The input ended.
    EndOfInput,
}

/// A closed segment, in absolute frame indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First frame (pre-roll included).
    pub start: u64,
    /// One past the last frame.
    pub end: u64,
    /// First frame of the detected speech (after the pre-roll).
    pub onset: u64,
    /// Last frame judged speech.
    pub last_speech: u64,
    /// The rule that closed it.
    pub rule: EndpointRule,
    /// The frame the endpointer had reached when the rule fired (the decision, in stream audio).
    pub decided: u64,
}

/// The segment the open one becomes if no more sound arrives ([`Endpointer::pending_close`]), in absolute frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingClose {
    /// First frame.
    pub start: u64,
    /// One past the last frame.
    pub end: u64,
    /// Frames from here to `end` are decoded as a copy of the frames just before (the text detector decodes its
    /// speculative final before the whole post-roll is heard); `end` when all are heard.
    pub heard: u64,
}

/// The open segment's state.
#[derive(Debug, Clone, Copy)]
struct Open {
    start: u64,
    onset: u64,
    last_speech: u64,
    /// Last frame of sound: the mean of the last few frames above half the speech threshold. The end-of-turn
    /// check counts its silence from here, so a weak sound inside a word (in noise, below the speech threshold every
    /// few words) does not pass for the end of the sentence.
    last_sound: u64,
    /// The segment's loudest frame energy.
    peak: f32,
    /// The detector judged the turn unfinished in the silence since `last_speech`.
    unfinished: bool,
}

/// The endpointer's state for one stream.
#[derive(Debug, Clone)]
pub struct Endpointer {
    threshold: f32,
    rise: f32,
    min_speech: u64,
    onset_votes: u64,
    pre_roll: u64,
    trailing: u64,
    /// With the `text` detector: (silence before the verdict, silence that closes an unfinished turn).
    turn_check: Option<(u64, u64)>,
    /// The endpointer stopped at `turn_check` and waits for [`Endpointer::judge`].
    awaiting_verdict: bool,
    /// `NOISY_EXTRA_MS` in frames.
    noisy_extra: u64,
    post_roll: u64,
    /// `EXTRAPOLATED_POST_ROLL_MS` in frames with the text detector (at most the post-roll), else 0.
    extrapolated: u64,
    max_len: u64,
    split_search: u64,
    no_text_timeout: u64,
    floor: f32,
    frame: u64,
    recent: Vec<bool>,
    recent_speech: u64,
    open: Option<Open>,
    energies: Vec<f32>,
    /// No segment starts before this frame: the end of the last closed segment, or the frame after lost audio. So
    /// segments never overlap (a pre-roll stops there) and never hold audio already finalized or lost.
    resume_at: u64,
}

impl Endpointer {
    /// An endpointer for frames `frame_ms` apart.
    pub fn new(config: &EndpointConfig, frame_ms: f32) -> Endpointer {
        let frames = |ms: u32| (ms as f32 / frame_ms).round().max(1.0) as u64;
        let window = frames(config.min_speech_ms);
        // The kept silence must be known when the segment may close (the speculative final decodes the final's
        // frames), so it is at most the wait: a shorter wait keeps less.
        let post_roll = frames(match config.detector {
            TurnDetector::Silence => config.post_roll_ms.min(config.trailing_silence_ms),
            TurnDetector::Text => config.turn_post_roll_ms.min(config.turn_check_ms),
        });
        Endpointer {
            threshold: config.speech_threshold_db / 10.0,
            rise: config.noise_floor_rise_db_per_s / 10.0 * frame_ms / 1000.0,
            min_speech: window,
            onset_votes: ((window as f32 * config.onset_speech_fraction).ceil() as u64).max(1),
            pre_roll: frames(config.pre_roll_ms),
            trailing: frames(config.trailing_silence_ms),
            turn_check: (config.detector == TurnDetector::Text).then(|| {
                (
                    frames(config.turn_check_ms),
                    frames(config.incomplete_wait_ms),
                )
            }),
            awaiting_verdict: false,
            noisy_extra: (NOISY_EXTRA_MS / frame_ms).round() as u64,
            post_roll,
            extrapolated: match config.detector {
                TurnDetector::Silence => 0,
                TurnDetector::Text => {
                    ((EXTRAPOLATED_POST_ROLL_MS / frame_ms).round() as u64).min(post_roll)
                }
            },
            max_len: frames(config.max_segment_ms),
            split_search: frames(config.split_search_ms),
            no_text_timeout: frames(config.no_text_timeout_ms),
            floor: f32::INFINITY,
            frame: 0,
            recent: vec![false; window as usize],
            recent_speech: 0,
            open: None,
            energies: Vec::with_capacity(frames(config.max_segment_ms) as usize + 1),
            resume_at: 0,
        }
    }

    /// Frames of audio before a segment's onset that a caller must keep to honour the pre-roll.
    pub fn pre_roll_frames(&self) -> u64 {
        self.pre_roll
    }

    /// First frame of the open segment, if any.
    pub fn open_segment_start(&self) -> Option<u64> {
        self.open.map(|o| o.start)
    }

    /// Speech onset frame of the open segment, if any.
    pub fn open_segment_onset(&self) -> Option<u64> {
        self.open.map(|o| o.onset)
    }

    /// Frames since the open segment's last speech frame (0 while speech goes on or with no open segment).
    pub fn trailing_silence_frames(&self) -> u64 {
        self.open
            .map_or(0, |o| self.frame.saturating_sub(o.last_speech + 1))
    }

    /// The segment the open one becomes if no more sound arrives before it closes, known once the trailing silence
    /// covers the post-roll but for its extrapolated end (the recognizer decodes it early, during the endpoint wait).
    pub fn pending_close(&self) -> Option<PendingClose> {
        let open = self.open?;
        let noise_extra = self.noise_extra(&open);
        let end = self.tail(&open) + 1 + self.post_roll + noise_extra;
        // In noise the post-roll is all heard: weak word ends lie under the noise, and a copy of the noise before
        // them cost 21 words on the noisy turn copies (clean copies: 398 against 400 errors).
        let heard = end
            - if noise_extra > 0 {
                0
            } else {
                self.extrapolated
            };
        (self.frame >= heard).then_some(PendingClose {
            start: open.start,
            end,
            heard,
        })
    }

    /// Index of the next frame.
    #[cfg(test)]
    pub fn frames_seen(&self) -> u64 {
        self.frame
    }

    /// True when the endpointer stopped at the end-of-turn check: no frame may be pushed until
    /// [`Endpointer::judge`] gives the verdict (the caller holds them, so a file and a live stream decide alike).
    pub fn awaiting_verdict(&self) -> bool {
        self.awaiting_verdict
    }

    /// The end-of-turn verdict on the open segment, asked for by [`Endpointer::awaiting_verdict`]: a complete turn
    /// closes now (returned, with [`EndpointRule::TurnComplete`]); an unfinished one waits `incomplete_wait_ms` of
    /// silence, or more speech; an undecided one is left to the silence rule (`trailing_silence_ms`).
    pub fn judge(&mut self, verdict: Verdict) -> Option<Segment> {
        if !std::mem::replace(&mut self.awaiting_verdict, false) {
            return None;
        }
        let mut open = self.open?;
        match verdict {
            Verdict::Complete => {
                self.open = None;
                let segment = self.close(open, self.frame, EndpointRule::TurnComplete);
                self.resume_at = segment.end;
                return Some(segment);
            }
            Verdict::Unfinished => open.unfinished = true,
            Verdict::Undecided => {}
        }
        self.open = Some(open);
        None
    }

    /// Feed one frame's energy (mean log10 mel power of the voice band); returns a segment when one closes. Not
    /// while [`Endpointer::awaiting_verdict`].
    pub fn push(&mut self, energy: f32) -> Option<Segment> {
        self.floor = if energy < self.floor {
            energy
        } else {
            self.floor + self.rise
        };
        let speech = energy > self.floor + self.threshold;
        self.step(speech, energy)
    }

    /// A frame of lost audio (ring overrun): silence for the rules, no effect on the noise floor. Closes the open
    /// segment at the gap.
    pub fn push_lost(&mut self) -> Option<Segment> {
        self.awaiting_verdict = false;
        let closed = self
            .open
            .take()
            .map(|o| self.close(o, self.frame, EndpointRule::Gap));
        self.resume_at = self.frame + 1;
        self.step(false, f32::INFINITY);
        closed
    }

    /// Rule 2: the open segment's partial decodes found no text in any of its audio up to frame `decoded_to`; once
    /// that covers `no_text_timeout_ms`, the segment is dropped (returned with [`EndpointRule::NoText`]) and the
    /// next speech opens a new one.
    pub fn no_text(&mut self, decoded_to: u64) -> Option<Segment> {
        let open = self.open?;
        if decoded_to.saturating_sub(open.start) < self.no_text_timeout {
            return None;
        }
        self.open = None;
        self.awaiting_verdict = false;
        self.resume_at = self.frame;
        Some(Segment {
            start: open.start,
            end: self.frame,
            onset: open.onset,
            last_speech: open.last_speech,
            rule: EndpointRule::NoText,
            decided: self.frame,
        })
    }

    /// End of input: close the open segment at the last frame.
    pub fn finish(&mut self) -> Option<Segment> {
        self.awaiting_verdict = false;
        let open = self.open.take()?;
        let segment = self.close(open, self.frame, EndpointRule::EndOfInput);
        (segment.end > segment.start).then_some(segment)
    }

    /// The frame the post-roll counts from: the last sound with the text detector (in noise, a word's weak end
    /// lies past the last frame above the speech threshold, and the short post-roll would cut it), else the last
    /// speech frame.
    fn tail(&self, open: &Open) -> u64 {
        if self.turn_check.is_some() {
            open.last_sound
        } else {
            open.last_speech
        }
    }

    /// Frames the text detector adds to the post-roll and the check for a segment in noise (`NOISY_PEAK_DB`).
    fn noise_extra(&self, open: &Open) -> u64 {
        let noisy = (open.peak - self.floor) * 10.0 < NOISY_PEAK_DB;
        if self.turn_check.is_some() && noisy {
            self.noisy_extra
        } else {
            0
        }
    }

    fn close(&self, open: Open, limit: u64, rule: EndpointRule) -> Segment {
        let end = (self.tail(&open) + 1 + self.post_roll + self.noise_extra(&open)).min(limit);
        Segment {
            start: open.start,
            end,
            onset: open.onset,
            last_speech: open.last_speech,
            rule,
            decided: self.frame,
        }
    }

    /// The last `frames` frames average more than half the speech threshold above the noise floor.
    fn sound(&self, frames: usize) -> bool {
        let recent = &self.energies[self.energies.len().saturating_sub(frames)..];
        let mean = recent.iter().sum::<f32>() / recent.len().max(1) as f32;
        mean > self.floor + self.threshold / 2.0
    }

    fn step(&mut self, speech: bool, energy: f32) -> Option<Segment> {
        let index = self.frame;
        self.frame += 1;
        let slot = (index % self.min_speech) as usize;
        self.recent_speech = self.recent_speech + u64::from(speech) - u64::from(self.recent[slot]);
        self.recent[slot] = speech;
        let Some(mut open) = self.open else {
            if self.recent_speech >= self.onset_votes && index >= self.resume_at {
                let onset = (index + 1)
                    .saturating_sub(self.min_speech)
                    .max(self.resume_at);
                let start = onset.saturating_sub(self.pre_roll).max(self.resume_at);
                self.open = Some(Open {
                    start,
                    onset,
                    last_speech: index,
                    last_sound: index,
                    peak: energy,
                    unfinished: false,
                });
                self.energies.clear();
                self.energies
                    .resize((index - start) as usize, f32::INFINITY);
                self.energies.push(energy);
            }
            return None;
        };
        self.energies.push(energy);
        if speech {
            open.last_speech = index;
            open.unfinished = false;
        }
        open.peak = open.peak.max(energy);
        if self.sound(SOUND_FRAMES) {
            open.last_sound = index;
        }
        self.open = Some(open);
        let silence = index - open.last_speech;
        let closes_at = match self.turn_check {
            None => self.trailing,
            Some((_, wait)) if open.unfinished => wait,
            Some((check, _)) if index - open.last_sound == check + self.noise_extra(&open) => {
                self.awaiting_verdict = true;
                return None;
            }
            // Undecided, or no verdict (a caller that pushes on without one): the silence rule.
            Some(_) => self.trailing,
        };
        if silence >= closes_at {
            self.open = None;
            let segment = self.close(open, index + 1, EndpointRule::TrailingSilence);
            self.resume_at = segment.end;
            return Some(segment);
        }
        if index + 1 - open.start >= self.max_len {
            // Cut at the quietest frame of the search window; the rest stays open.
            let len = self.energies.len();
            let from = len.saturating_sub(self.split_search as usize);
            let cut = (from..len)
                .min_by(|&a, &b| self.energies[a].total_cmp(&self.energies[b]))
                .unwrap_or(len - 1);
            let end = open.start + cut as u64 + 1;
            self.energies.drain(..cut + 1);
            self.open = Some(Open {
                start: end,
                onset: end,
                last_speech: open.last_speech.max(end),
                last_sound: open.last_sound.max(end),
                peak: open.peak,
                unfinished: open.unfinished,
            });
            return Some(Segment {
                start: open.start,
                end,
                onset: open.onset,
                last_speech: open.last_speech.min(end - 1),
                rule: EndpointRule::MaxLength,
                decided: self.frame,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence_rule() -> EndpointConfig {
        EndpointConfig::default()
    }

    fn text_detector() -> EndpointConfig {
        EndpointConfig::default().with_detector(TurnDetector::Text)
    }

    fn run(energies: &[f32]) -> Vec<Segment> {
        let mut e = Endpointer::new(&silence_rule(), 10.0);
        let mut out: Vec<Segment> = energies.iter().filter_map(|&x| e.push(x)).collect();
        out.extend(e.finish());
        out
    }

    /// Segments never overlap and never start inside audio already finalized (issue 11: junk duplicate finals at a
    /// ring gap).
    fn assert_disjoint(segments: &[Segment]) {
        for pair in segments.windows(2) {
            assert!(pair[1].start >= pair[0].end, "overlap: {pair:?}");
        }
    }

    #[test]
    fn a_pre_roll_stops_at_the_end_of_the_previous_segment() {
        // Two utterances 650 ms apart: the second's 400 ms pre-roll would reach into the first's 300 ms post-roll.
        let mut x = vec![-8.0; 100];
        x.extend(vec![-1.0; 100]);
        x.extend(vec![-8.0; 65]);
        x.extend(vec![-1.0; 100]);
        x.extend(vec![-8.0; 200]);
        let segs = run(&x);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert_disjoint(&segs);
        assert_eq!(segs[1].start, segs[0].end);
    }

    #[test]
    fn lost_frames_in_speech_close_the_segment_and_the_next_starts_after_them() {
        let mut e = Endpointer::new(&silence_rule(), 10.0);
        let mut segs = Vec::new();
        segs.extend((0..100).filter_map(|_| e.push(-8.0)));
        segs.extend((0..150).filter_map(|_| e.push(-1.0)));
        // Single lost frames every few frames, as a full ring drops them, while speech goes on.
        for _ in 0..5 {
            segs.extend(e.push_lost());
            let after_gap = e.frames_seen();
            segs.extend((0..20).filter_map(|_| e.push(-1.0)));
            assert!(e.open_segment_start().is_none_or(|s| s >= after_gap));
        }
        segs.extend((0..200).filter_map(|_| e.push(-8.0)));
        segs.extend(e.finish());
        assert_disjoint(&segs);
        assert_eq!(segs[0].rule, EndpointRule::Gap);
        assert_eq!(
            segs[0].end, 250,
            "the first segment ends at the first lost frame"
        );
    }

    #[test]
    fn speech_band_out_of_order_or_range_is_refused() {
        for band in [
            [3000.0, 200.0],
            [-1.0, 3000.0],
            [250.0, 1e9],
            [f32::NAN, 3000.0],
        ] {
            let config = EndpointConfig {
                speech_band_hz: band,
                ..EndpointConfig::default()
            };
            let error = config
                .validate(&ConfigSource::BuiltIn)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("endpoint.speech_band_hz"),
                "{band:?}: {error}"
            );
        }
        assert!(EndpointConfig::default()
            .validate(&ConfigSource::BuiltIn)
            .is_ok());
    }

    #[test]
    fn silence_and_steady_tone_open_no_segment() {
        assert!(run(&[-10.0; 500]).is_empty());
        assert!(run(&[-2.0; 500]).is_empty());
    }

    #[test]
    fn speech_between_silences_gives_one_segment_with_rolls() {
        let mut x = vec![-8.0; 100];
        x.extend(vec![-1.0; 200]); // frames 100..300
        x.extend(vec![-8.0; 200]);
        let segs = run(&x);
        // onset 96 (start of the winning vote window) - 40 pre-roll; last speech 299 + 1 + 30 post-roll
        assert_eq!(
            segs,
            vec![Segment {
                start: 56,
                end: 330,
                onset: 96,
                last_speech: 299,
                rule: EndpointRule::TrailingSilence,
                decided: 360,
            }]
        );
    }

    #[test]
    fn a_gap_closes_the_open_segment_and_rule_2_drops_one() {
        let mut e = Endpointer::new(&silence_rule(), 10.0);
        let mut closed = Vec::new();
        for i in 0..200 {
            let x = if i < 50 { -8.0 } else { -1.0 };
            closed.extend(e.push(x));
        }
        closed.extend(e.push_lost());
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].rule, EndpointRule::Gap);
        for _ in 0..50 {
            closed.extend(e.push(-1.0));
        }
        assert!(e.no_text(e.open_segment_start().unwrap() + 1).is_none()); // too soon for rule 2
        let dropped = e.no_text(e.frames_seen() + 300).unwrap();
        assert_eq!(dropped.rule, EndpointRule::NoText);
        assert!(e.open_segment_start().is_none());
    }

    #[test]
    fn long_speech_is_cut_at_the_quietest_frame() {
        let mut x = vec![-8.0; 50];
        x.extend((0..2000).map(|i| if i == 1400 { -5.0 } else { -1.0 }));
        x.extend(vec![-8.0; 100]);
        let segs = run(&x);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert_eq!((segs[0].end, segs[0].rule), (1451, EndpointRule::MaxLength)); // the dip at frame 1450
        assert_eq!(segs[1].start, 1451);
        assert!(segs.iter().all(|s| s.end - s.start <= 1500));
    }

    /// `frames` frames of `energy`, none of which closes a segment.
    fn push_open(e: &mut Endpointer, energy: f32, frames: usize) {
        for _ in 0..frames {
            assert!(e.push(energy).is_none());
        }
    }

    /// Silence until the endpointer asks for a verdict.
    fn silence_until_verdict(e: &mut Endpointer) {
        while !e.awaiting_verdict() {
            assert!(e.push(-8.0).is_none());
        }
    }

    /// 1 s of silence, 1 s of speech at `speech`, then silence into a text-detector endpointer; the frame at which it
    /// asks for a verdict.
    fn until_verdict(e: &mut Endpointer, speech: f32) -> u64 {
        push_open(e, -8.0, 100);
        push_open(e, speech, 100);
        silence_until_verdict(e);
        e.frames_seen()
    }

    #[test]
    fn a_complete_verdict_closes_the_turn_at_the_check() {
        let mut e = Endpointer::new(&text_detector(), 10.0);
        let at = until_verdict(&mut e, -1.0);
        // The last speech frame is 199; the last sound 201 (the 30 ms mean over 199..=201 is still above half the
        // threshold); the check comes 200 ms after it.
        assert_eq!(at, 202 + 20);
        let segment = e.judge(Verdict::Complete).expect("closed");
        assert_eq!(segment.rule, EndpointRule::TurnComplete);
        assert_eq!((segment.end, segment.decided), (202 + 15, 222)); // 150 ms post-roll after the last sound
        assert!(!e.awaiting_verdict() && e.open_segment_start().is_none());
    }

    #[test]
    fn an_unfinished_turn_waits_the_long_silence_and_speech_resets_the_verdict() {
        let mut e = Endpointer::new(&text_detector(), 10.0);
        until_verdict(&mut e, -1.0);
        assert!(e.judge(Verdict::Unfinished).is_none());
        // A 1.2 s pause, then the sentence goes on: no close inside the pause.
        push_open(&mut e, -8.0, 100);
        push_open(&mut e, -1.0, 50);
        // The new silence is judged again; unfinished again, it closes at 1700 ms of silence.
        silence_until_verdict(&mut e);
        assert!(e.judge(Verdict::Unfinished).is_none());
        let mut closed = None;
        while closed.is_none() {
            closed = e.push(-8.0);
        }
        let segment = closed.unwrap();
        assert_eq!(segment.decided - segment.last_speech - 1, 170);
        assert_eq!(segment.rule, EndpointRule::TrailingSilence);
        assert_eq!(segment.start, 56);
    }

    #[test]
    fn an_undecided_verdict_or_none_gets_the_silence_rule() {
        for verdict in [Some(Verdict::Undecided), None] {
            let mut e = Endpointer::new(&text_detector(), 10.0);
            until_verdict(&mut e, -1.0);
            if let Some(verdict) = verdict {
                assert!(e.judge(verdict).is_none());
            }
            let closed: Vec<Segment> = (0..100).filter_map(|_| e.push(-8.0)).collect();
            assert_eq!(closed.len(), 1);
            assert_eq!(closed[0].rule, EndpointRule::TrailingSilence);
            assert_eq!(closed[0].decided - closed[0].last_speech, 61);
        }
    }

    #[test]
    fn in_noise_the_post_roll_and_the_check_wait_50_ms_longer() {
        // Speech 20 dB above the floor (log10 units: 2.0), under NOISY_PEAK_DB.
        let mut e = Endpointer::new(&text_detector(), 10.0);
        assert_eq!(until_verdict(&mut e, -6.0), 202 + 25);
        let segment = e.judge(Verdict::Complete).expect("closed");
        assert_eq!(segment.end, 202 + 20);
    }

    /// The frame count at which `pending_close` first answers, and its answer, for speech at `speech` then silence.
    fn first_pending_close(config: &EndpointConfig, speech: f32) -> (u64, PendingClose) {
        let mut e = Endpointer::new(config, 10.0);
        push_open(&mut e, -8.0, 100);
        push_open(&mut e, speech, 100);
        loop {
            assert!(e.push(-8.0).is_none());
            if let Some(close) = e.pending_close() {
                return (e.frames_seen(), close);
            }
        }
    }

    #[test]
    fn the_text_detectors_speculative_final_starts_50_ms_before_the_post_roll_is_heard_but_in_noise(
    ) {
        // Clean: the last sound is frame 201, the segment ends 150 ms after it; the decode may start 50 ms earlier.
        let (seen, close) = first_pending_close(&text_detector(), -1.0);
        assert_eq!(
            (close.start, close.end, close.heard),
            (56, 202 + 15, 202 + 10)
        );
        assert_eq!(seen, close.heard);
        // In noise (speech 20 dB above the floor) the post-roll is 200 ms, all of it heard first.
        let (seen, close) = first_pending_close(&text_detector(), -6.0);
        assert_eq!(
            (close.end, close.heard, seen),
            (202 + 20, 202 + 20, 202 + 20)
        );
        // The silence rule decodes its 300 ms post-roll once it is all heard.
        let (seen, close) = first_pending_close(&silence_rule(), -1.0);
        assert_eq!(
            (close.end, close.heard, seen),
            (200 + 30, 200 + 30, 200 + 30)
        );
    }

    #[test]
    fn a_wait_shorter_than_the_post_roll_keeps_only_the_wait() {
        // A profile that shortens only the waits is valid: the kept silence shrinks with them.
        let short = EndpointConfig {
            turn_check_ms: 100,
            trailing_silence_ms: 200,
            ..EndpointConfig::default()
        };
        assert!(short.validate(&ConfigSource::BuiltIn).is_ok());
        let mut e = Endpointer::new(&short.clone().with_detector(TurnDetector::Text), 10.0);
        assert_eq!(until_verdict(&mut e, -1.0), 202 + 10);
        let segment = e.judge(Verdict::Complete).expect("closed");
        assert_eq!((segment.end, segment.decided), (202 + 10, 212)); // 100 ms kept, not 150
        let mut e = Endpointer::new(&short, 10.0);
        push_open(&mut e, -8.0, 100);
        push_open(&mut e, -1.0, 100);
        let closed = std::iter::repeat_n(-8.0, 100)
            .find_map(|x| e.push(x))
            .expect("closed");
        // The last speech frame is 199: 200 ms of silence closes it and all of it is kept (not 300 ms).
        assert_eq!((closed.end, closed.decided), (200 + 20, 220));
        let too_long = EndpointConfig {
            turn_post_roll_ms: 6_000,
            ..EndpointConfig::default()
        };
        let error = too_long
            .validate(&ConfigSource::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(error.contains("endpoint.turn_post_roll_ms"), "{error}");
    }
}
