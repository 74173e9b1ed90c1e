//! Vocabulary biasing: names and terms a user lists get a bonus while the search spells them (shallow fusion with
//! the terms' token sequences, in the spirit of sherpa-onnx's context graph). At each step, for every spelling of
//! every term whose first k tokens end the hypothesis so far, the term's next token gets `bonus` added to its
//! log-probability (k = 0: the term may start here, with a smaller bonus); in beam search, the bonus of a term begun
//! and then left is taken back from the beam's score. Matching is case-insensitive (each term is encoded as given,
//! capitalized and in lower case, with and without a leading space), and the output keeps the user's spelling.

use super::Vocabulary;

/// Most terms in one list.
pub const MAX_TERMS: usize = 10_000;
/// Longest term, characters.
pub const MAX_TERM_CHARS: usize = 64;

/// The `[vocabulary]` table of a device profile: terms every stream is biased toward (names, jargon) and the
/// strength of the bias. `earshot --vocabulary/--vocabulary-file/--vocabulary-strength` replace them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VocabularyConfig {
    /// The terms, in the spelling the output should use (none: no bias).
    pub terms: Vec<String>,
    /// Log-probability bonus per token of a listed term, 0..=20.
    pub strength: f32,
}

impl Default for VocabularyConfig {
    fn default() -> Self {
        VocabularyConfig {
            terms: Vec::new(),
            strength: DEFAULT_STRENGTH,
        }
    }
}

impl VocabularyConfig {
    /// Check the strength and the terms (as [`Bias::new`] does; an empty list is allowed here: no bias).
    pub fn validate(&self, origin: &crate::ConfigSource) -> crate::Result<()> {
        let bad =
            |reason: String| crate::Error::config(origin.clone(), format!("vocabulary: {reason}"));
        check_strength(self.strength).map_err(bad)?;
        if self.terms.iter().any(|t| !t.trim().is_empty()) {
            check_terms(&self.terms).map_err(bad)?;
        }
        Ok(())
    }
}

/// The default strength (measured on the dev set: tests/fixtures/vocabulary/README.md).
pub const DEFAULT_STRENGTH: f32 = 5.0;

fn check_strength(bonus: f32) -> Result<(), String> {
    if (0.0..=20.0).contains(&bonus) {
        Ok(())
    } else {
        Err(format!("bias strength {bonus} is outside 0..=20"))
    }
}

/// The terms trimmed, empty ones and case-insensitive duplicates dropped; an error says what is wrong with the list.
fn check_terms(terms: &[String]) -> Result<Vec<String>, String> {
    let mut kept: Vec<String> = Vec::new();
    for term in terms.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if term.chars().any(char::is_control) {
            return Err(format!("term {term:?} holds a control character"));
        }
        if term.chars().count() > MAX_TERM_CHARS {
            return Err(format!(
                "term {term:?} is longer than {MAX_TERM_CHARS} characters"
            ));
        }
        if !kept.iter().any(|k| k.to_lowercase() == term.to_lowercase()) {
            kept.push(term.to_string());
        }
    }
    if kept.is_empty() {
        return Err("the vocabulary list holds no terms".into());
    }
    if kept.len() > MAX_TERMS {
        return Err(format!("{} terms: at most {MAX_TERMS}", kept.len()));
    }
    Ok(kept)
}

/// A term list ready for the search.
#[derive(Debug, Clone, PartialEq)]
pub struct Bias {
    terms: Vec<String>,
    tokens: Vec<TermTokens>,
    bonus: f32,
}

/// One term's token sequences.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TermTokens {
    /// The term as it is written in the output (the user's spelling, after a space).
    pub written: Vec<u32>,
    /// Every spelling the search matches (as given, capitalized, lower case; with and without a leading space).
    pub spellings: Vec<Vec<u32>>,
}

impl Bias {
    /// Check and encode `terms` (surrounding spaces trimmed, empty ones and duplicates dropped) with a log-probability
    /// `bonus` per matching token; the error says what is wrong with the list.
    pub fn new(terms: &[String], bonus: f32, vocabulary: &Vocabulary) -> Result<Bias, String> {
        check_strength(bonus)?;
        let kept = check_terms(terms)?;
        let mut tokens = Vec::with_capacity(kept.len());
        for term in &kept {
            let mut spellings: Vec<Vec<u32>> = Vec::new();
            let mut capitalized = term.clone();
            if let Some(first) = capitalized.get(..1) {
                capitalized = first.to_uppercase() + &capitalized[1..];
            }
            for spelling in [term.clone(), capitalized, term.to_lowercase()] {
                for text in [format!(" {spelling}"), spelling.clone()] {
                    let ids = vocabulary.encode(&text);
                    if !ids.is_empty() && !spellings.contains(&ids) {
                        spellings.push(ids);
                    }
                }
            }
            tokens.push(TermTokens {
                written: vocabulary.encode(&format!(" {term}")),
                spellings,
            });
        }
        Ok(Bias {
            terms: kept,
            tokens,
            bonus,
        })
    }

    /// The terms of a term-list file: one per line, `#` starts a comment (read with a size cap, 4 MiB).
    pub fn read_terms(path: &std::path::Path) -> crate::Result<Vec<String>> {
        let text = crate::text_file::read_text(path, 4 << 20, "a term list (one term per line)")
            .map_err(|reason| crate::Error::Config {
                origin: crate::ConfigSource::File(path.to_path_buf()),
                reason,
            })?;
        Ok(text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").to_string())
            .collect())
    }

    /// The strength it was built with.
    pub fn strength(&self) -> f32 {
        self.bonus
    }

    /// The terms, in the user's spelling.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Each term's token sequences, in the order of [`Bias::terms`].
    pub(crate) fn term_tokens(&self) -> &[TermTokens] {
        &self.tokens
    }

    /// Every spelling of every term.
    pub(crate) fn spellings(&self) -> impl Iterator<Item = &Vec<u32>> {
        self.tokens.iter().flat_map(|t| &t.spellings)
    }

    /// Bonus for a token that starts a term: smaller than for one that continues a started term, so a term is not
    /// begun on weak evidence (measured on the dev set: tests/fixtures/vocabulary/README.md).
    fn start_bonus(&self) -> f32 {
        self.bonus * 0.4
    }

    /// How far `tokens` are into a term: the longest proper prefix of a spelling that ends them (0: none).
    fn matched(&self, tokens: &[u32]) -> usize {
        self.spellings()
            .map(|seq| prefix_len(seq, tokens))
            .max()
            .unwrap_or(0)
    }

    /// True when `tokens` end with a whole spelling of a term.
    pub(crate) fn completes(&self, tokens: &[u32]) -> bool {
        self.spellings().any(|seq| tokens.ends_with(seq))
    }

    /// Add the bonus to the log-probabilities `row` of every token that would continue (or start) a term after
    /// `tokens`.
    pub(crate) fn apply(&self, tokens: &[u32], row: &mut [f32]) {
        let mut boosted: Vec<(u32, f32)> = Vec::new();
        for seq in self.spellings() {
            let k = prefix_len(seq, tokens);
            let bonus = if k == 0 {
                self.start_bonus()
            } else {
                self.bonus
            };
            match boosted.iter_mut().find(|(id, _)| *id == seq[k]) {
                Some(entry) => entry.1 = entry.1.max(bonus),
                None => boosted.push((seq[k], bonus)),
            }
        }
        for (id, bonus) in boosted {
            if let Some(v) = row.get_mut(id as usize) {
                *v += bonus;
            }
        }
    }

    /// The bonus a hypothesis has collected on a term it has started but not finished, given its tokens: taken back
    /// from its score when it leaves the term (sherpa-onnx's context graph does the same), so a beam that only began
    /// a term is not favoured over one that never did.
    pub(crate) fn pending_credit(&self, tokens: &[u32]) -> f32 {
        if self.completes(tokens) {
            return 0.0;
        }
        match self.matched(tokens) {
            0 => 0.0,
            k => self.start_bonus() + self.bonus * (k - 1) as f32,
        }
    }

    /// `text` with every case-insensitive occurrence of a term (as whole words) in the user's spelling.
    pub fn respell(&self, text: &str) -> String {
        let mut out = text.to_string();
        for term in &self.terms {
            let lower_out = out.to_lowercase();
            let lower_term = term.to_lowercase();
            let aligned = out.chars().all(|c| {
                let mut lower = c.to_lowercase();
                lower.next().is_some_and(|l| l.len_utf8() == c.len_utf8()) && lower.next().is_none()
            });
            if !aligned {
                continue; // lower-casing changes some character's length: byte positions would not line up
            }
            let mut at = 0;
            let mut result = String::with_capacity(out.len());
            while let Some(found) = lower_out[at..].find(&lower_term) {
                let start = at + found;
                let end = start + lower_term.len();
                let word_edge = |i: usize| {
                    out[..i]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !c.is_alphanumeric())
                };
                let after_edge = out[end..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                result.push_str(&out[at..start]);
                if word_edge(start) && after_edge {
                    result.push_str(term);
                } else {
                    result.push_str(&out[start..end]);
                }
                at = end;
            }
            result.push_str(&out[at..]);
            out = result;
        }
        out
    }
}

/// The longest proper prefix of `seq` that ends `tokens` (0: none).
fn prefix_len(seq: &[u32], tokens: &[u32]) -> usize {
    (1..seq.len())
        .rev()
        .find(|&k| tokens.ends_with(&seq[..k]))
        .unwrap_or(0)
}
