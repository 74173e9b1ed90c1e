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
//! - rule 2, nothing decoded: the recognizer abandons an open segment whose partial decodes gave no text for
//!   `no_text_timeout_ms` ([`Endpointer::abandon`]);
//! - rule 3, maximum length: it is cut at `max_segment_ms`, at the quietest frame of the last `split_search_ms`.
//!
//! Silence and steady noise or tones never start a segment; what does start one and turns out not to be speech is
//! dropped later by the decoder's no-speech gate.

use serde::{Deserialize, Serialize};

use crate::error::{check_range, ConfigSource, Result};

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
    /// Rule 1: silence after speech that closes a segment.
    pub trailing_silence_ms: u32,
    /// Silence kept after the last speech frame.
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
            post_roll_ms: 300,
            max_segment_ms: 15_000,
            split_search_ms: 3_000,
            no_text_timeout_ms: 3_000,
        }
    }
}

impl EndpointConfig {
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
        check(
            "endpoint.post_roll_ms",
            self.post_roll_ms,
            0,
            self.trailing_silence_ms,
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

/// Why a segment closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointRule {
    /// Rule 1: silence after speech.
    TrailingSilence,
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
}

/// The open segment's state.
#[derive(Debug, Clone, Copy)]
struct Open {
    start: u64,
    onset: u64,
    last_speech: u64,
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
    post_roll: u64,
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
        Endpointer {
            threshold: config.speech_threshold_db / 10.0,
            rise: config.noise_floor_rise_db_per_s / 10.0 * frame_ms / 1000.0,
            min_speech: window,
            onset_votes: ((window as f32 * config.onset_speech_fraction).ceil() as u64).max(1),
            pre_roll: frames(config.pre_roll_ms),
            trailing: frames(config.trailing_silence_ms),
            post_roll: frames(config.post_roll_ms),
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

    /// The segment the open one becomes if no more speech arrives before rule 1 closes it: `(start, end)`, known
    /// once the trailing silence covers the post-roll (the recognizer decodes it early, during the endpoint wait).
    pub fn pending_close(&self) -> Option<(u64, u64)> {
        let open = self.open?;
        let end = open.last_speech + 1 + self.post_roll;
        (self.frame >= end).then_some((open.start, end))
    }

    /// Index of the next frame.
    #[cfg(test)]
    pub fn frames_seen(&self) -> u64 {
        self.frame
    }

    /// Feed one frame's energy (mean log10 mel power of the voice band); returns a segment when one closes.
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
        self.resume_at = self.frame;
        Some(Segment {
            start: open.start,
            end: self.frame,
            onset: open.onset,
            last_speech: open.last_speech,
            rule: EndpointRule::NoText,
        })
    }

    /// End of input: close the open segment at the last frame.
    pub fn finish(&mut self) -> Option<Segment> {
        let open = self.open.take()?;
        let segment = self.close(open, self.frame, EndpointRule::EndOfInput);
        (segment.end > segment.start).then_some(segment)
    }

    fn close(&self, open: Open, limit: u64, rule: EndpointRule) -> Segment {
        let end = (open.last_speech + 1 + self.post_roll).min(limit);
        Segment {
            start: open.start,
            end,
            onset: open.onset,
            last_speech: open.last_speech,
            rule,
        }
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
        }
        self.open = Some(open);
        if index - open.last_speech >= self.trailing {
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
            });
            return Some(Segment {
                start: open.start,
                end,
                onset: open.onset,
                last_speech: open.last_speech.min(end - 1),
                rule: EndpointRule::MaxLength,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(energies: &[f32]) -> Vec<Segment> {
        let mut e = Endpointer::new(&EndpointConfig::default(), 10.0);
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
        let mut e = Endpointer::new(&EndpointConfig::default(), 10.0);
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
                rule: EndpointRule::TrailingSilence
            }]
        );
    }

    #[test]
    fn a_gap_closes_the_open_segment_and_rule_2_drops_one() {
        let mut e = Endpointer::new(&EndpointConfig::default(), 10.0);
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
}
