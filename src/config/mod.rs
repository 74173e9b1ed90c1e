//! Device profiles: one TOML file per target in `firmware-configs/`, selected by name or path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::DecodeOptions;
use crate::error::{Error, Result};
use crate::model::RuntimeOptions;
use crate::stream::{EndpointConfig, PartialConfig, RecognizerConfig};

/// How ONNX Runtime runs on the device (`[runtime]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Intra-op threads of the encoder.
    pub threads: usize,
    /// Intra-op threads of the decoder (small steps: 1 is usually fastest in live use).
    pub decoder_threads: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            threads: 2,
            decoder_threads: 1,
        }
    }
}

/// Audio capture (`[capture]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Capacity of the capture ring in frames (10 ms each): how far the recognizer may fall behind before audio is
    /// dropped.
    pub ring_frames: usize,
    /// Sample rate to ask the microphone for; 0 takes the device's default (resampled to 16 kHz either way).
    pub sample_rate_hz: u32,
    /// Callback period to ask the microphone for, in ms; 0 takes the host's default.
    pub period_ms: u32,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            ring_frames: 3000,
            sample_rate_hz: 0,
            period_ms: 0,
        }
    }
}

/// A device profile. Missing tables and fields take the documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (the file stem, by convention).
    pub name: String,
    /// What the profile is for.
    pub description: String,
    /// Threads.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// Search, guards, no-speech gate.
    #[serde(default)]
    pub decode: DecodeOptions,
    /// Segmentation rules.
    #[serde(default)]
    pub endpoint: EndpointConfig,
    /// Partial results while speaking.
    #[serde(default)]
    pub partials: PartialConfig,
    /// Audio capture.
    #[serde(default)]
    pub capture: CaptureConfig,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name: "built-in".into(),
            description: "earshot's defaults".into(),
            runtime: RuntimeConfig::default(),
            decode: DecodeOptions::default(),
            endpoint: EndpointConfig::default(),
            partials: PartialConfig::default(),
            capture: CaptureConfig::default(),
        }
    }
}

fn check<T: PartialOrd + std::fmt::Display>(
    path: &Path,
    field: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<()> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(Error::Config {
            path: path.to_path_buf(),
            reason: format!("{field} = {value} is out of range {lo}..={hi}"),
        })
    }
}

/// A TOML error on one line: ``line N (`the line`): message`` (toml's own text spans several lines with a source excerpt).
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end_matches('.').replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let source: String = text
                .lines()
                .nth(line - 1)
                .unwrap_or("")
                .trim()
                .chars()
                .take(60)
                .collect();
            format!("line {line} (`{source}`): {message}")
        }
        None => message,
    }
}

impl Profile {
    /// Parse and validate profile text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Profile> {
        let profile: Profile = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: toml_error(text, &e),
        })?;
        profile.validate(path)?;
        Ok(profile)
    }

    /// Read and validate a profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Profile::parse(&text, path)
    }

    /// A profile by file path (anything with a `/` or ending in `.toml`) or by name, looked up as `NAME.toml` in
    /// each of `dirs` in order.
    pub fn find(name_or_path: &str, dirs: &[PathBuf]) -> Result<Profile> {
        if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
            return Profile::load(Path::new(name_or_path));
        }
        for dir in dirs {
            let path = dir.join(format!("{name_or_path}.toml"));
            if path.is_file() {
                return Profile::load(&path);
            }
        }
        let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        Err(Error::Config {
            path: PathBuf::from(name_or_path),
            reason: format!(
                "no such profile (looked in {}); `earshot profiles` lists them",
                looked.join(", ")
            ),
        })
    }

    /// Check every field's range; the error names the file and the field.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let d = &self.decode;
        let e = &self.endpoint;
        check(path, "runtime.threads", self.runtime.threads, 1, 64)?;
        check(
            path,
            "runtime.decoder_threads",
            self.runtime.decoder_threads,
            1,
            64,
        )?;
        check(path, "decode.beam_size", d.beam_size, 1, 16)?;
        check(path, "decode.max_tokens_base", d.max_tokens_base, 1, 224)?;
        check(
            path,
            "decode.max_tokens_per_second",
            d.max_tokens_per_second,
            1.0,
            50.0,
        )?;
        check(
            path,
            "decode.max_compression_ratio",
            d.max_compression_ratio,
            1.0,
            100.0,
        )?;
        check(
            path,
            "decode.min_window_frames",
            d.min_window_frames,
            0,
            3000,
        )?;
        check(path, "decode.fallback_frames", d.fallback_frames, 0, 3000)?;
        check(
            path,
            "decode.no_speech_threshold",
            d.no_speech_threshold,
            0.0,
            1.0,
        )?;
        check(
            path,
            "decode.logprob_threshold",
            d.logprob_threshold,
            -100.0,
            0.0,
        )?;
        check(
            path,
            "endpoint.speech_threshold_db",
            e.speech_threshold_db,
            0.5,
            60.0,
        )?;
        check(
            path,
            "endpoint.noise_floor_rise_db_per_s",
            e.noise_floor_rise_db_per_s,
            0.1,
            100.0,
        )?;
        check(path, "endpoint.min_speech_ms", e.min_speech_ms, 10, 2_000)?;
        check(
            path,
            "endpoint.onset_speech_fraction",
            e.onset_speech_fraction,
            0.1,
            1.0,
        )?;
        check(path, "endpoint.pre_roll_ms", e.pre_roll_ms, 0, 2_000)?;
        check(
            path,
            "endpoint.trailing_silence_ms",
            e.trailing_silence_ms,
            100,
            10_000,
        )?;
        check(
            path,
            "endpoint.post_roll_ms",
            e.post_roll_ms,
            0,
            e.trailing_silence_ms,
        )?;
        check(
            path,
            "endpoint.max_segment_ms",
            e.max_segment_ms,
            1_000,
            28_000,
        )?;
        check(
            path,
            "endpoint.split_search_ms",
            e.split_search_ms,
            0,
            e.max_segment_ms,
        )?;
        check(
            path,
            "endpoint.no_text_timeout_ms",
            e.no_text_timeout_ms,
            500,
            60_000,
        )?;
        let p = &self.partials;
        check(path, "partials.interval_ms", p.interval_ms, 0, 10_000)?;
        check(
            path,
            "partials.first_interval_ms",
            p.first_interval_ms,
            10,
            10_000,
        )?;
        check(path, "partials.min_speech_ms", p.min_speech_ms, 0, 10_000)?;
        let c = &self.capture;
        check(path, "capture.ring_frames", c.ring_frames, 100, 1_000_000)?;
        if c.sample_rate_hz != 0 {
            check(
                path,
                "capture.sample_rate_hz",
                c.sample_rate_hz,
                8_000,
                192_000,
            )?;
        }
        check(path, "capture.period_ms", c.period_ms, 0, 1_000)?;
        Ok(())
    }

    /// The recognizer settings.
    pub fn recognizer_config(&self) -> RecognizerConfig {
        RecognizerConfig {
            decode: self.decode.clone(),
            endpoint: self.endpoint.clone(),
            partials: self.partials.clone(),
        }
    }

    /// The ONNX Runtime settings.
    pub fn runtime_options(&self) -> RuntimeOptions {
        RuntimeOptions {
            intra_threads: self.runtime.threads,
            decoder_threads: self.runtime.decoder_threads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_the_field() {
        let path = Path::new("firmware-configs/x.toml");
        let unknown = Profile::parse("name='x'\ndescription='y'\n[decode]\nbeam=3\n", path)
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("x.toml") && unknown.contains("beam"),
            "{unknown}"
        );
        let wrong_type = Profile::parse(
            "name='x'\ndescription='y'\n[runtime]\nthreads='two'\n",
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(wrong_type.contains("threads"), "{wrong_type}");
        let capture = Profile::parse(
            "name='x'\ndescription='y'\n[capture]\nsample_rate_hz=7000\n",
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(
            capture.contains("capture.sample_rate_hz = 7000"),
            "{capture}"
        );
        let partials = Profile::parse(
            "name='x'\ndescription='y'\n[partials]\nfirst_interval_ms=0\n",
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(
            partials.contains("partials.first_interval_ms"),
            "{partials}"
        );
        let range = Profile::parse("name='x'\ndescription='y'\n[decode]\nbeam_size=99\n", path)
            .unwrap_err()
            .to_string();
        assert!(range.contains("decode.beam_size = 99"), "{range}");
    }

    #[test]
    fn missing_tables_take_defaults() {
        let p = Profile::parse("name='x'\ndescription='y'\n", Path::new("p.toml")).unwrap();
        assert_eq!(p.decode, DecodeOptions::default());
        assert_eq!(p.endpoint, EndpointConfig::default());
    }
}
