//! Device profiles: one TOML file per target in `firmware-configs/`, selected by name or path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::{DecodeOptions, VocabularyConfig};
use crate::error::{check_range, toml_error, ConfigSource, Error, Result};
use crate::model::RuntimeOptions;
use crate::stream::{EndpointConfig, PartialConfig, RecognizerConfig};

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
    /// The model pack: a folder name under `models/` or a path (`--model` and `$EARSHOT_MODEL` override it; none:
    /// the bundled `whisper-tiny-en-int8`).
    #[serde(default)]
    pub model: Option<String>,
    /// Threads.
    #[serde(default)]
    pub runtime: RuntimeOptions,
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
    /// Names and terms to bias recognition toward.
    #[serde(default)]
    pub vocabulary: VocabularyConfig,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name: "built-in".into(),
            description: "earshot's defaults".into(),
            model: None,
            runtime: RuntimeOptions::default(),
            decode: DecodeOptions::default(),
            endpoint: EndpointConfig::default(),
            partials: PartialConfig::default(),
            capture: CaptureConfig::default(),
            vocabulary: VocabularyConfig::default(),
        }
    }
}

impl CaptureConfig {
    /// Check every field's range; the error names the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        check_range(
            origin,
            "capture.ring_frames",
            self.ring_frames,
            100,
            1_000_000,
        )?;
        if self.sample_rate_hz != 0 {
            check_range(
                origin,
                "capture.sample_rate_hz",
                self.sample_rate_hz,
                8_000,
                192_000,
            )?;
        }
        check_range(origin, "capture.period_ms", self.period_ms, 0, 1_000)
    }
}

impl Profile {
    /// Parse and validate profile text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Profile> {
        let origin = ConfigSource::File(path.to_path_buf());
        let profile: Profile = toml::from_str(text)
            .map_err(|e| Error::config(origin.clone(), toml_error(text, &e)))?;
        profile.validate(&origin)?;
        Ok(profile)
    }

    /// Read and validate a profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = crate::text_file::read_text(path, 1 << 20, "a device profile (TOML)")
            .map_err(|reason| Error::config(ConfigSource::File(path.to_path_buf()), reason))?;
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
        Err(Error::config(
            ConfigSource::File(PathBuf::from(name_or_path)),
            format!(
                "no such profile (looked in {}); `earshot profiles` lists them",
                looked.join(", ")
            ),
        ))
    }

    /// Check every field's range; the error names where the profile came from and the field.
    pub fn validate(&self, origin: &ConfigSource) -> Result<()> {
        self.runtime.validate(origin)?;
        self.decode.validate(origin)?;
        self.endpoint.validate(origin)?;
        self.partials.validate(origin)?;
        self.capture.validate(origin)?;
        self.vocabulary.validate(origin)
    }

    /// The recognizer settings.
    pub fn recognizer_config(&self) -> RecognizerConfig {
        RecognizerConfig {
            decode: self.decode.clone(),
            endpoint: self.endpoint.clone(),
            partials: self.partials.clone(),
            vocabulary: self.vocabulary.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_the_field() {
        // The error of a profile x.toml made of a name, a description and `body`.
        let error = |body: &str| {
            let toml = format!("name='x'\ndescription='y'\n{body}\n");
            Profile::parse(&toml, Path::new("firmware-configs/x.toml"))
                .unwrap_err()
                .to_string()
        };
        let unknown = error("[decode]\nbeam=3");
        assert!(
            unknown.contains("x.toml") && unknown.contains("beam"),
            "{unknown}"
        );
        let wrong_type = error("[runtime]\nthreads='two'");
        assert!(wrong_type.contains("threads"), "{wrong_type}");
        let capture = error("[capture]\nsample_rate_hz=7000");
        assert!(
            capture.contains("capture.sample_rate_hz = 7000"),
            "{capture}"
        );
        let partials = error("[partials]\nfirst_interval_ms=0");
        assert!(
            partials.contains("partials.first_interval_ms"),
            "{partials}"
        );
        let range = error("[decode]\nbeam_size=99");
        assert!(range.contains("decode.beam_size = 99"), "{range}");
        let recheck = error("[decode]\nlanguage_recheck_below=1.5");
        assert!(
            recheck.contains("decode.language_recheck_below = 1.5 is out of range 0..=1"),
            "{recheck}"
        );
    }

    #[test]
    fn the_default_profile_states_the_built_in_defaults() {
        // firmware-configs/default.toml says omitted fields take the values it shows.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-configs/default.toml");
        let p = Profile::load(&path).unwrap();
        assert_eq!(p.decode, DecodeOptions::default());
        assert_eq!(p.endpoint, EndpointConfig::default());
    }

    #[test]
    fn missing_tables_take_defaults() {
        let p = Profile::parse("name='x'\ndescription='y'\n", Path::new("p.toml")).unwrap();
        assert_eq!(p.decode, DecodeOptions::default());
        assert_eq!(p.endpoint, EndpointConfig::default());
    }
}
