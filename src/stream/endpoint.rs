//! Endpointing: an energy voice-activity detector on MFCC frames that splits a stream into speech segments.
//!
//! Frame energy is the mean log10 mel power over the voice band (`speech_band_hz`), a fixed linear combination of the
//! MFCC coefficients (the band rows of the inverse DCT, averaged), so it needs no other data from the capture side.
//! Restricting it to the voice band keeps broadband noise from drowning speech onsets. A noise floor follows the minimum energy (instant fall, slow rise); a frame is speech when it is
//! `speech_threshold_db` above the floor. Rules, in the spirit of sherpa-onnx's endpoint rules
//! (https://github.com/k2-fsa/sherpa-onnx/blob/124384369a72470bfc82fab16198a606d136618b/sherpa-onnx/csrc/endpoint.h):
//! 1. a segment starts when at least `onset_speech_fraction` of the last `min_speech_ms` of frames are speech (a vote,
//!    not a run: in noise, speech frames flicker), with `pre_roll_ms` of audio before it;
//! 2. it ends after `trailing_silence_ms` of silence (keeping `post_roll_ms` of it);
//! 3. it is cut at `max_segment_ms`, at the quietest frame of the last `split_search_ms`.
//!
//! Silence and steady noise or tones never start a segment; what does start one and turns out not to be speech is
//! dropped later by the decoder's no-speech gate.

use serde::{Deserialize, Serialize};

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
    /// Rule 2: silence after speech that closes a segment.
    pub trailing_silence_ms: u32,
    /// Silence kept after the last speech frame.
    pub post_roll_ms: u32,
    /// Rule 3: longest segment (the model handles about 10 s well without timestamps).
    pub max_segment_ms: u32,
    /// Window before `max_segment_ms` searched for the quietest frame to cut at.
    pub split_search_ms: u32,
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
            post_roll_ms: 400,
            max_segment_ms: 10_000,
            split_search_ms: 3_000,
        }
    }
}

/// A closed segment, in absolute frame indices `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First frame.
    pub start: u64,
    /// One past the last frame.
    pub end: u64,
}

/// The endpointer's state for one stream.
#[derive(Debug, Clone)]
pub struct Endpointer {
    threshold: f32,   // log10 units
    rise: f32,        // log10 units per frame
    min_speech: u64,  // frames in the onset window
    onset_votes: u64, // speech frames needed in it
    pre_roll: u64,
    trailing: u64,
    post_roll: u64,
    max_len: u64,
    split_search: u64,
    floor: f32,
    frame: u64,         // index of the next frame
    recent: Vec<bool>,  // speech decisions of the last min_speech frames (ring)
    recent_speech: u64, // how many of them are speech
    open: Option<u64>,  // start of the open segment
    last_speech: u64,   // last speech frame in the open segment
    energies: Vec<f32>, // energies of the open segment (for the rule-3 cut)
}

impl Endpointer {
    /// An endpointer for frames `frame_ms` apart.
    pub fn new(config: &EndpointConfig, frame_ms: f32) -> Endpointer {
        let frames = |ms: u32| (ms as f32 / frame_ms).round().max(1.0) as u64;
        Endpointer {
            threshold: config.speech_threshold_db / 10.0,
            rise: config.noise_floor_rise_db_per_s / 10.0 * frame_ms / 1000.0,
            min_speech: frames(config.min_speech_ms),
            onset_votes: ((frames(config.min_speech_ms) as f32 * config.onset_speech_fraction)
                .ceil() as u64)
                .max(1),
            pre_roll: frames(config.pre_roll_ms),
            trailing: frames(config.trailing_silence_ms),
            post_roll: frames(config.post_roll_ms),
            max_len: frames(config.max_segment_ms),
            split_search: frames(config.split_search_ms),
            floor: f32::INFINITY,
            frame: 0,
            recent: vec![false; frames(config.min_speech_ms) as usize],
            recent_speech: 0,
            open: None,
            last_speech: 0,
            energies: Vec::with_capacity(frames(config.max_segment_ms) as usize + 1),
        }
    }

    /// Frames of audio before a segment's onset that a caller must keep to honour the pre-roll.
    pub fn pre_roll_frames(&self) -> u64 {
        self.pre_roll
    }

    /// First frame of the open segment, if any.
    pub fn open_segment_start(&self) -> Option<u64> {
        self.open
    }

    /// Feed one frame's energy (mean log10 mel power); returns a segment when one closes.
    pub fn push(&mut self, energy: f32) -> Option<Segment> {
        let index = self.frame;
        self.frame += 1;
        self.floor = if energy < self.floor {
            energy
        } else {
            self.floor + self.rise
        };
        let speech = energy > self.floor + self.threshold;
        let slot = (index % self.min_speech) as usize;
        self.recent_speech = self.recent_speech + u64::from(speech) - u64::from(self.recent[slot]);
        self.recent[slot] = speech;
        match self.open {
            None => {
                if self.recent_speech >= self.onset_votes {
                    let onset = (index + 1).saturating_sub(self.min_speech);
                    let start = onset.saturating_sub(self.pre_roll);
                    self.open = Some(start);
                    self.last_speech = index;
                    self.energies.clear();
                    self.energies
                        .resize((index - start) as usize, f32::INFINITY);
                    self.energies.push(energy);
                }
                None
            }
            Some(start) => {
                self.energies.push(energy);
                if speech {
                    self.last_speech = index;
                }
                if index - self.last_speech >= self.trailing {
                    let end = (self.last_speech + 1 + self.post_roll).min(index + 1);
                    self.open = None;
                    return Some(Segment { start, end });
                }
                if index + 1 - start >= self.max_len {
                    // Cut at the quietest frame of the search window; the rest stays open.
                    let len = self.energies.len();
                    let from = len.saturating_sub(self.split_search as usize);
                    let cut = (from..len)
                        .min_by(|&a, &b| self.energies[a].total_cmp(&self.energies[b]))
                        .unwrap_or(len - 1);
                    let end = start + cut as u64 + 1;
                    self.energies.drain(..cut + 1);
                    self.open = Some(end);
                    return Some(Segment { start, end });
                }
                None
            }
        }
    }

    /// End of input: close the open segment (if it holds speech) at the last frame.
    pub fn finish(&mut self) -> Option<Segment> {
        let start = self.open.take()?;
        let end = (self.last_speech + 1 + self.post_roll).min(self.frame);
        (end > start).then_some(Segment { start, end })
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
        // onset 96 (start of the winning vote window) - 40 pre-roll; last speech 299 + 1 + 40 post-roll
        assert_eq!(
            segs,
            vec![Segment {
                start: 56,
                end: 340
            }]
        );
    }

    #[test]
    fn long_speech_is_cut_at_the_quietest_frame() {
        let mut x = vec![-8.0; 50];
        x.extend((0..1500).map(|i| if i == 900 { -5.0 } else { -1.0 }));
        x.extend(vec![-8.0; 100]);
        let segs = run(&x);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert_eq!(segs[0].end, 951); // the dip at frame 950 ends the first segment
        assert_eq!(segs[1].start, 951);
        assert!(segs.iter().all(|s| s.end - s.start <= 1000));
    }
}
