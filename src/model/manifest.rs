//! The model pack manifest (`model.toml`): everything needed to drive a pack, read and checked, never hard-coded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{in_range, Error, Result};
use crate::features::FrontendSpec;

/// The manifest format this build understands.
pub const FORMAT_VERSION: u32 = 1;

/// A parsed `model.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version; must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Pack name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Front-end definition.
    pub frontend: FrontendSpec,
    /// Encoder graph.
    pub encoder: EncoderSpec,
    /// Decoder graph.
    pub decoder: DecoderSpec,
    /// Special tokens and suppression lists.
    pub tokens: TokenSpec,
    /// Detokenizer data.
    pub tokenizer: TokenizerSpec,
    /// The language and task tokens of a multilingual pack (absent in an English-only one).
    #[serde(default)]
    pub languages: Option<LanguagesSpec>,
    /// The encoder's output at the end of a full window of silence, appended after shorter windows (absent in
    /// packs exported before it existed: they decode without it).
    #[serde(default)]
    pub end_of_window: Option<EndOfWindowSpec>,
    /// SHA-256 (hex) of every file in the pack, by file name.
    pub checksums: BTreeMap<String, String>,
}

/// The encoder graph.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderSpec {
    /// File name inside the pack.
    pub file: String,
    /// Input name.
    pub input: String,
    /// Output names: cross-attention K, V.
    pub outputs: Vec<String>,
    /// Frames are padded up to a multiple of this.
    pub bucket_frames: usize,
    /// Largest input in frames.
    pub max_frames: usize,
    /// Value of padding frames.
    pub pad_value: f32,
}

/// The decoder graph.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderSpec {
    /// File name inside the pack.
    pub file: String,
    /// Input names: tokens, self K, self V, cross K, cross V.
    pub inputs: Vec<String>,
    /// Output names: logits, new self K, new self V.
    pub outputs: Vec<String>,
    /// Decoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Model width.
    pub d_model: usize,
    /// Vocabulary size (logits per position).
    pub vocab_size: usize,
    /// Most token positions the decoder takes (prompt included).
    pub max_positions: usize,
}

/// Special tokens and decoding rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// `<|startoftranscript|>`.
    pub start_of_transcript: u32,
    /// `<|endoftext|>`.
    pub end_of_text: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// The token whose first-step probability is the no-speech probability.
    pub no_speech: u32,
    /// Ids at or above this are timestamps.
    pub timestamp_begin: u32,
    /// The decoder prompt.
    pub prompt: Vec<u32>,
    /// Detokenization skips ids at or above this.
    pub first_text_id_excluded: u32,
    /// Suppressed at every step.
    pub suppress: Vec<u32>,
    /// Suppressed at the first step only.
    pub suppress_at_begin: Vec<u32>,
    /// Cross-attention `[layer, head]` pairs that align tokens to time.
    pub alignment_heads: Vec<[u32; 2]>,
}

/// Detokenizer data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizerSpec {
    /// Vocabulary file: line i is token i as a byte-level BPE string.
    pub file: String,
}

/// The language and task tokens of a multilingual pack: its prompt is `start_of_transcript`, the language, the task,
/// `no_timestamps`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguagesSpec {
    /// Language codes (ISO 639-1 where there is one, as Whisper spells them), in token order.
    pub codes: Vec<String>,
    /// The token of `codes[0]`; `codes[i]` is `first_token + i`.
    pub first_token: u32,
    /// `<|transcribe|>`.
    pub transcribe: u32,
    /// `<|translate|>` (speech in any language to English text).
    pub translate: u32,
}

impl LanguagesSpec {
    /// The token of language `code`, if the pack knows it.
    pub fn token(&self, code: &str) -> Option<u32> {
        let index = self.codes.iter().position(|c| c == code)?;
        Some(self.first_token + index as u32)
    }
}

/// The cross-attention K/V of the last positions of a full encoder window of silence (padded as Whisper pads).
/// Whisper's decoder was trained on full 30 s windows and reads their last positions as the end of the audio; after
/// a shorter window's own positions they stop it ending sentences early (`models/export/end_of_window.py`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndOfWindowSpec {
    /// File name inside the pack: little-endian f32 `[2 (K, V), layers, positions, d_model]`.
    pub file: String,
    /// Encoder positions the block holds.
    pub positions: usize,
}

impl Manifest {
    /// Read `model.toml` from a pack folder, check it describes what this build can run, and verify every
    /// file's SHA-256.
    pub fn load(pack: &Path) -> Result<Self> {
        let manifest = Manifest::read(pack)?;
        let end_of_window = manifest.end_of_window.as_ref().map(|e| &e.file);
        for file in [
            Some(&manifest.encoder.file),
            Some(&manifest.decoder.file),
            Some(&manifest.tokenizer.file),
            end_of_window,
        ]
        .into_iter()
        .flatten()
        {
            manifest.verify_checksum(pack, file)?;
        }
        Ok(manifest)
    }

    /// Read and check `model.toml` from a pack folder without hashing its files (to list packs).
    pub fn read(pack: &Path) -> Result<Self> {
        let path = pack.join("model.toml");
        if !path.exists() {
            return Err(Error::pack(
                pack,
                "no model.toml here: pass the folder of a model pack (e.g. models/whisper-tiny-en-int8)",
            ));
        }
        let text = crate::text_file::read_text(&path, 1 << 20, "a model pack manifest")
            .map_err(|reason| Error::pack(&path, reason))?;
        let manifest: Manifest = toml::from_str(&text)
            .map_err(|e| Error::pack(&path, crate::error::toml_error(&text, &e)))?;
        manifest.validate(&path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |reason: String| Err(Error::pack(path, reason));
        if self.format_version != FORMAT_VERSION {
            return bad(format!(
                "format_version {} but this earshot reads version {FORMAT_VERSION}: use a pack exported for this \
                 version (models/export) or a matching earshot",
                self.format_version
            ));
        }
        if let Err(reason) = self.frontend.validate().and_then(|_| self.check_ranges()) {
            return bad(reason);
        }
        if !self
            .encoder
            .max_frames
            .is_multiple_of(self.encoder.bucket_frames)
        {
            return bad(
                "encoder.max_frames must be a positive multiple of encoder.bucket_frames".into(),
            );
        }
        if self.encoder.outputs.len() != 2
            || self.decoder.inputs.len() != 5
            || self.decoder.outputs.len() != 3
        {
            return bad("encoder needs 2 outputs, decoder 5 inputs and 3 outputs".into());
        }
        let t = &self.tokens;
        let vocab = self.decoder.vocab_size as u32;
        let ids = [
            t.start_of_transcript,
            t.end_of_text,
            t.no_timestamps,
            t.no_speech,
            t.timestamp_begin,
        ];
        if ids
            .iter()
            .chain(&t.prompt)
            .chain(&t.suppress)
            .chain(&t.suppress_at_begin)
            .any(|&id| id >= vocab)
        {
            return bad(format!(
                "a token id is outside the vocabulary (vocab_size {vocab})"
            ));
        }
        if let Some(languages) = &self.languages {
            let last = languages.first_token as usize + languages.codes.len();
            let unique: std::collections::HashSet<&String> = languages.codes.iter().collect();
            if languages.codes.is_empty()
                || unique.len() != languages.codes.len()
                || last > vocab as usize
                || languages.transcribe >= vocab
                || languages.translate >= vocab
            {
                return bad(
                    "[languages] needs distinct codes whose tokens, transcribe and translate are in the vocabulary"
                        .into(),
                );
            }
        }
        if t.prompt.is_empty() || t.prompt.len() >= self.decoder.max_positions {
            return bad(
                "tokens.prompt must be non-empty and shorter than decoder.max_positions".into(),
            );
        }
        Ok(())
    }

    /// Every number within what a Whisper-style pack can hold (a corrupt or hand-edited manifest must not size an
    /// allocation or reach the runtime as a shape error).
    fn check_ranges(&self) -> std::result::Result<(), String> {
        let (e, d) = (&self.encoder, &self.decoder);
        let sizes = [
            ("encoder.bucket_frames", e.bucket_frames, 1, 3_000),
            ("encoder.max_frames", e.max_frames, 1, 3_000),
            ("decoder.layers", d.layers, 1, 64),
            ("decoder.heads", d.heads, 1, 64),
            ("decoder.d_model", d.d_model, 1, 8_192),
            ("decoder.vocab_size", d.vocab_size, 100, 1_000_000),
            ("decoder.max_positions", d.max_positions, 4, 4_096),
        ];
        for (field, value, lo, hi) in sizes {
            in_range(field, value, lo, hi)?;
        }
        if !d.d_model.is_multiple_of(d.heads) {
            return Err("decoder.d_model must be a multiple of decoder.heads".into());
        }
        in_range("encoder.pad_value", e.pad_value, -1e6, 1e6)?;
        if let Some(end) = &self.end_of_window {
            in_range(
                "end_of_window.positions",
                end.positions,
                1,
                e.max_frames / 2,
            )?;
        }
        let heads_ok = self
            .tokens
            .alignment_heads
            .iter()
            .all(|&[layer, head]| (layer as usize) < d.layers && (head as usize) < d.heads);
        if !heads_ok {
            return Err(
                "tokens.alignment_heads names a layer or head the decoder does not have".into(),
            );
        }
        Ok(())
    }

    fn verify_checksum(&self, pack: &Path, file: &str) -> Result<()> {
        use std::io::Read;
        let path: PathBuf = pack.join(file);
        let expected = self.checksums.get(file).ok_or_else(|| {
            Error::pack(
                pack.join("model.toml"),
                format!("[checksums] has no entry for {file}"),
            )
        })?;
        let mut file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::pack(
                &path,
                "missing from the pack: restore it (git checkout models/), build it (`bash .ci/setup --with-base` \
                 builds whisper-base-int8's graphs) or re-export the pack",
            ),
            _ => Error::pack(&path, format!("cannot read it: {e}")),
        })?;
        let length = regular_file_length(&file, &path)?;
        if length > MAX_PACK_FILE_BYTES {
            return Err(Error::pack(
                &path,
                format!(
                    "{length} bytes, more than any pack file holds ({MAX_PACK_FILE_BYTES}): restore it (git checkout \
                     models/) or re-export the pack"
                ),
            ));
        }
        // Streamed through a small buffer: reading a 30 MB graph into memory just to hash it raised peak RSS.
        let mut hasher = Sha256::new();
        std::io::copy(&mut (&mut file).take(length), &mut hasher)
            .map_err(|e| Error::pack(&path, format!("cannot read it: {e}")))?;
        let found: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !found.eq_ignore_ascii_case(expected) {
            return Err(Error::pack(
                &path,
                format!(
                    "SHA-256 {found} does not match the manifest's {expected}: the file is corrupt or from another \
                     export; restore it (git checkout models/, or git lfs pull) or re-export the pack"
                ),
            ));
        }
        Ok(())
    }
}

/// The largest file a pack may hold (the largest graph of the packs earshot makes is tens of MB).
const MAX_PACK_FILE_BYTES: u64 = 2 << 30;

/// The length of an open pack file, or an error when it is not a regular file (a device such as `/dev/zero`, a FIFO,
/// a folder): such a file could be read for ever.
pub(crate) fn regular_file_length(file: &std::fs::File, path: &Path) -> Result<u64> {
    let meta = file
        .metadata()
        .map_err(|e| Error::pack(path, format!("cannot read it: {e}")))?;
    if !meta.is_file() {
        return Err(Error::pack(
            path,
            "is not a regular file (a device, a FIFO or a folder): restore it (git checkout models/) or re-export \
             the pack",
        ));
    }
    Ok(meta.len())
}
