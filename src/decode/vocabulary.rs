//! Detokenizer: token ids to text through the pack's byte-level BPE vocabulary.

use std::path::Path;

use crate::error::{Error, Result};
use crate::model::Manifest;

/// The token table: each id's raw bytes. Byte-level BPE stores bytes as printable characters (GPT-2's
/// `bytes_to_unicode`, <https://github.com/openai/gpt-2/blob/27a08882c7706499a2c044840fa3d464ac4f5f0b/src/encoder.py>);
/// decoding maps them back and joins the bytes.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    tokens: Vec<Vec<u8>>,
    first_excluded: u32,
    /// Text token bytes -> id, built on the first [`Vocabulary::encode`].
    ids: std::sync::OnceLock<std::collections::HashMap<Vec<u8>, u32>>,
}

fn printable(b: u32) -> bool {
    (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b)
}

/// GPT-2's byte -> character table inverted, indexed by code point (all characters it uses are below 512).
fn byte_table() -> [Option<u8>; 512] {
    let mut table = [None; 512];
    let mut next = 256usize;
    for b in 0u8..=255 {
        if printable(u32::from(b)) {
            table[usize::from(b)] = Some(b);
        } else {
            // Non-printable bytes were mapped, in increasing byte order, to 256, 257, ...
            table[next] = Some(b);
            next += 1;
        }
    }
    table
}

/// The byte a vocabulary character stands for.
fn unicode_to_byte(table: &[Option<u8>; 512], c: char) -> Option<u8> {
    table.get(c as usize).copied().flatten()
}

impl Vocabulary {
    /// Read a vocabulary file (line i = token i) and check it covers the manifest's vocabulary size.
    pub fn load(path: &Path, manifest: &Manifest) -> Result<Vocabulary> {
        let text = crate::text_file::read_text(path, 16 << 20, "a vocabulary file")
            .map_err(|reason| Error::pack(path, reason))?;
        let table = byte_table();
        let mut tokens = Vec::with_capacity(manifest.decoder.vocab_size);
        for (i, line) in text.lines().enumerate() {
            let bytes: Option<Vec<u8>> = line.chars().map(|c| unicode_to_byte(&table, c)).collect();
            // Special tokens (<|...|>) are plain ASCII and decode as themselves; detokenize skips them by id.
            tokens.push(bytes.ok_or_else(|| {
                Error::pack(path, format!("line {}: not a byte-level BPE token", i + 1))
            })?);
        }
        if tokens.len() < manifest.decoder.vocab_size {
            return Err(Error::pack(
                path,
                format!(
                    "{} tokens but the decoder has {}: re-export the pack",
                    tokens.len(),
                    manifest.decoder.vocab_size
                ),
            ));
        }
        Ok(Vocabulary {
            tokens,
            first_excluded: manifest.tokens.first_text_id_excluded,
            ids: std::sync::OnceLock::new(),
        })
    }

    /// Text of `ids`, skipping special tokens. A character whose bytes are not all there yet at the end (byte-level
    /// tokens split multi-byte characters: a partial cut after the first byte of "é") is left out, so no text ever
    /// ends inside a character; invalid bytes elsewhere become U+FFFD.
    pub fn detokenize(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids.iter().filter(|&&id| id < self.first_excluded) {
            if let Some(token) = self.tokens.get(id as usize) {
                bytes.extend_from_slice(token);
            }
        }
        complete_utf8(&bytes)
    }

    /// True when token `id` starts a new word (its text begins with a space).
    pub fn starts_word(&self, id: u32) -> bool {
        self.tokens
            .get(id as usize)
            .and_then(|t| t.first())
            .is_some_and(|&b| b == b' ')
    }

    /// True when token `id` goes on the word before it: its text begins with a letter or digit (not a space, not
    /// punctuation).
    pub fn continues_word(&self, id: u32) -> bool {
        self.tokens
            .get(id as usize)
            .and_then(|t| t.first())
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b >= 0x80)
    }

    /// True when token `id` is punctuation only (no letter or digit, no leading space: ".", "?", ",").
    pub fn is_punctuation(&self, id: u32) -> bool {
        self.tokens
            .get(id as usize)
            .is_some_and(|t| !t.is_empty() && t.iter().all(u8::is_ascii_punctuation))
    }

    /// Token ids of `text` (no special tokens): byte-level BPE, merging at each step the adjacent pair whose
    /// merged token has the lowest id (GPT-2-style vocabularies number merged tokens in merge order). Bytes without
    /// a single-byte token are skipped.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let ids = self.ids.get_or_init(|| {
            let text_tokens = (self.first_excluded as usize).min(self.tokens.len());
            self.tokens[..text_tokens]
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i as u32))
                .collect()
        });
        let mut parts: Vec<Vec<u8>> = text
            .bytes()
            .map(|b| vec![b])
            .filter(|b| ids.contains_key(b.as_slice()))
            .collect();
        loop {
            let best = parts
                .windows(2)
                .enumerate()
                .filter_map(|(i, w)| {
                    ids.get([w[0].as_slice(), w[1].as_slice()].concat().as_slice())
                        .map(|&id| (id, i))
                })
                .min();
            let Some((_, i)) = best else { break };
            let right = parts.remove(i + 1);
            parts[i].extend(right);
        }
        parts
            .iter()
            .filter_map(|p| ids.get(p.as_slice()).copied())
            .collect()
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True for an empty table (never for a loaded pack).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// `bytes` as text: invalid sequences become U+FFFD, an incomplete character at the end is dropped.
fn complete_utf8(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                text.push_str(valid);
                return text;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                text.push_str(&String::from_utf8_lossy(valid));
                match e.error_len() {
                    None => return text, // the end holds the first bytes of a character
                    Some(bad) => {
                        text.push(char::REPLACEMENT_CHARACTER);
                        rest = &after[bad..];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{byte_table, complete_utf8, unicode_to_byte};

    #[test]
    fn text_never_ends_inside_a_character() {
        let word = "Großmutter é 東京".as_bytes();
        for cut in 0..=word.len() {
            let text = complete_utf8(&word[..cut]);
            assert!(word.starts_with(text.as_bytes()), "cut {cut}: {text:?}");
            assert!(
                cut - text.len() < 4,
                "cut {cut}: dropped more than one character"
            );
        }
        assert_eq!(complete_utf8(b"a\xffb"), "a\u{FFFD}b");
    }

    #[test]
    fn byte_table_round_trips_all_256_bytes() {
        // Build the forward table the way GPT-2 does and check the inverse maps every byte back.
        let mut printable: Vec<u32> = (0x21..=0x7e)
            .chain(0xa1..=0xac)
            .chain(0xae..=0xff)
            .collect();
        let mut chars = printable.clone();
        let mut n = 0;
        for b in 0..256u32 {
            if !printable.contains(&b) {
                printable.push(b);
                chars.push(256 + n);
                n += 1;
            }
        }
        let table = byte_table();
        for (b, c) in printable.iter().zip(&chars) {
            assert_eq!(
                unicode_to_byte(&table, char::from_u32(*c).unwrap()),
                Some(*b as u8)
            );
        }
        assert_eq!(unicode_to_byte(&table, 'Ġ'), Some(b' '));
        assert_eq!(unicode_to_byte(&table, '\u{5000}'), None);
    }
}
