//! Vocabulary biasing: names and terms a user lists get a bonus while the search spells them (shallow fusion with
//! the terms' token sequences, in the spirit of sherpa-onnx's context graph). At each step, for every spelling of
//! every term whose first k tokens end the hypothesis so far, the term's next token gets `bonus` added to its
//! log-probability (k = 0: the term may start here, with a smaller bonus); in beam search, the bonus of a term begun
//! and then left is taken back from the beam's score. Matching is case-insensitive (each term is encoded as given,
//! capitalized and in lower case, with and without a leading space), and the output keeps the user's spelling.

use std::collections::{HashMap, HashSet};

use super::phonetic::Sound;
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
    /// Log-probability bonus per token of a listed term, 0..=8 (stronger bias puts terms where they were not said).
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

/// The strongest bias accepted. Above it, a listed term's start bonus outweighs what the model hears: with "Aoife"
/// listed, q02 ("How far is it from here to the train station?") came out "Aoife Aoife" at 10, 12, 15 and 20, and
/// was unchanged at 5 and 8 (as were six other fixtures at 8).
pub const MAX_STRENGTH: f32 = 8.0;

fn check_strength(bonus: f32) -> Result<(), String> {
    if (0.0..=MAX_STRENGTH).contains(&bonus) {
        Ok(())
    } else {
        Err(format!(
            "bias strength {bonus} is outside 0..={MAX_STRENGTH} (stronger bias puts listed terms where they were \
             not said)"
        ))
    }
}

/// The terms trimmed, empty ones and case-insensitive duplicates dropped; an error says what is wrong with the list.
/// Linear in the list's size, and it stops at the first term past [`MAX_TERMS`]: a huge list costs little to refuse.
fn check_terms(terms: &[String]) -> Result<Vec<String>, String> {
    let mut kept: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for term in terms.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if term.chars().any(char::is_control) {
            return Err(format!("term {term:?} holds a control character"));
        }
        if term.chars().count() > MAX_TERM_CHARS {
            return Err(format!(
                "term {term:?} is longer than {MAX_TERM_CHARS} characters"
            ));
        }
        if seen.insert(term.to_lowercase()) {
            if kept.len() == MAX_TERMS {
                return Err(format!(
                    "more than {MAX_TERMS} different terms: at most {MAX_TERMS}"
                ));
            }
            kept.push(term.to_string());
        }
    }
    if kept.is_empty() {
        return Err("the vocabulary list holds no terms".into());
    }
    Ok(kept)
}

/// A term list ready for the search.
#[derive(Debug, Clone, PartialEq)]
pub struct Bias {
    terms: Vec<String>,
    tokens: Vec<TermTokens>,
    bonus: f32,
    index: SpellingIndex,
}

/// Every spelling of every term, indexed so that a decoding step looks only at the spellings its last token can
/// continue: the cost of a step does not grow with the list.
#[derive(Debug, Clone, PartialEq, Default)]
struct SpellingIndex {
    spellings: Vec<Vec<u32>>,
    /// Each distinct first token, and how many spellings start with it.
    first_tokens: Vec<(u32, usize)>,
    /// Token t -> every (spelling, k), 1 <= k < its length, whose k-th token (the last of its first k) is t.
    continuing: HashMap<u32, Vec<(usize, usize)>>,
    /// Token t -> every spelling that ends with t.
    ending: HashMap<u32, Vec<usize>>,
}

impl SpellingIndex {
    fn new(tokens: &[TermTokens]) -> SpellingIndex {
        let mut index = SpellingIndex::default();
        let mut firsts: HashMap<u32, usize> = HashMap::new();
        for seq in tokens.iter().flat_map(|t| &t.spellings) {
            let s = index.spellings.len();
            let (Some(&first), Some(&last)) = (seq.first(), seq.last()) else {
                continue;
            };
            *firsts.entry(first).or_default() += 1;
            for k in 1..seq.len() {
                index.continuing.entry(seq[k - 1]).or_default().push((s, k));
            }
            index.ending.entry(last).or_default().push(s);
            index.spellings.push(seq.clone());
        }
        index.first_tokens = firsts.into_iter().collect();
        index.first_tokens.sort_unstable();
        index
    }

    /// Each spelling that `tokens` are inside of, with the length of its longest proper prefix that ends them.
    fn inside(&self, tokens: &[u32]) -> HashMap<usize, usize> {
        let mut longest: HashMap<usize, usize> = HashMap::new();
        let Some(last) = tokens.last() else {
            return longest;
        };
        for &(s, k) in self.continuing.get(last).into_iter().flatten() {
            if tokens.ends_with(&self.spellings[s][..k]) {
                let entry = longest.entry(s).or_default();
                *entry = (*entry).max(k);
            }
        }
        longest
    }
}

/// One term's token sequences.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TermTokens {
    /// The term as it is written in the output (the user's spelling, after a space).
    pub written: Vec<u32>,
    /// Every spelling the search matches (as given, capitalized, lower case; with and without a leading space).
    pub spellings: Vec<Vec<u32>>,
    /// Whether [`Bias::respell`] writes the term's other casings in the user's spelling: not when each of its words
    /// is a single token in lower case, an everyday word ("Ring", "Matter") the model writes for what was said.
    pub respell: bool,
    /// How the term sounds (from its spelling).
    pub sound: Sound,
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
            let everyday = term
                .to_lowercase()
                .split_whitespace()
                .all(|word| vocabulary.encode(&format!(" {word}")).len() == 1);
            tokens.push(TermTokens {
                written: vocabulary.encode(&format!(" {term}")),
                spellings,
                respell: !everyday,
                sound: Sound::of(term),
            });
        }
        Ok(Bias::from_tokens(kept, tokens, bonus))
    }

    fn from_tokens(terms: Vec<String>, tokens: Vec<TermTokens>, bonus: f32) -> Bias {
        let index = SpellingIndex::new(&tokens);
        Bias {
            terms,
            tokens,
            bonus,
            index,
        }
    }

    /// This list with `more` terms added at the same strength (a server's own list plus a request's names). `more`
    /// is checked as [`Bias::new`] checks a list, and limited on its own: the terms already here do not count
    /// against it. Only the new terms are encoded.
    pub fn extended(&self, more: &[String], vocabulary: &Vocabulary) -> Result<Bias, String> {
        let more = check_terms(more)?;
        let known: HashSet<String> = self.terms.iter().map(|t| t.to_lowercase()).collect();
        let added: Vec<String> = more
            .into_iter()
            .filter(|t| !known.contains(&t.to_lowercase()))
            .collect();
        if added.is_empty() {
            return Ok(self.clone());
        }
        let extra = Bias::new(&added, self.bonus, vocabulary)?;
        let mut terms = self.terms.clone();
        terms.extend(extra.terms);
        let mut tokens = self.tokens.clone();
        tokens.extend(extra.tokens);
        Ok(Bias::from_tokens(terms, tokens, self.bonus))
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

    /// Each distinct token a listed term's spelling starts with.
    pub(crate) fn first_tokens(&self) -> impl Iterator<Item = u32> + '_ {
        self.index.first_tokens.iter().map(|&(token, _)| token)
    }

    /// Bonus for a token that starts a term: smaller than for one that continues a started term, so a term is not
    /// begun on weak evidence (measured on the dev set: tests/fixtures/vocabulary/README.md).
    fn start_bonus(&self) -> f32 {
        self.bonus * 0.4
    }

    /// How far `tokens` are into a term: the longest proper prefix of a spelling that ends them (0: none).
    fn matched(&self, tokens: &[u32]) -> usize {
        self.index.inside(tokens).into_values().max().unwrap_or(0)
    }

    /// True when `tokens` end with a whole spelling of a term.
    pub(crate) fn completes(&self, tokens: &[u32]) -> bool {
        let index = &self.index;
        tokens.last().is_some_and(|last| {
            index
                .ending
                .get(last)
                .into_iter()
                .flatten()
                .any(|&s| tokens.ends_with(&index.spellings[s]))
        })
    }

    /// Add the bonus to the next-token scores `row` (the search passes logits and normalizes afterwards: a bonus is
    /// additive, so it is the same on log-probabilities) of every token that would continue (or start) a term after
    /// `tokens`: each spelling that `tokens` are inside of gives its next token the full bonus; each spelling they
    /// are not inside of gives its first token the start bonus; a token boosted twice gets the larger bonus once.
    pub(crate) fn apply(&self, tokens: &[u32], row: &mut [f32]) {
        let index = &self.index;
        let mut full: HashSet<u32> = HashSet::new();
        let mut inside_by_first: HashMap<u32, usize> = HashMap::new();
        for (s, k) in index.inside(tokens) {
            let seq = &index.spellings[s];
            full.insert(seq[k]);
            *inside_by_first.entry(seq[0]).or_default() += 1;
        }
        let mut add = |id: u32, bonus: f32| {
            if let Some(v) = row.get_mut(id as usize) {
                *v += bonus;
            }
        };
        for &(first, count) in &index.first_tokens {
            let inside = inside_by_first.get(&first).copied().unwrap_or(0);
            if inside < count && !full.contains(&first) {
                add(first, self.start_bonus());
            }
        }
        for id in full {
            add(id, self.bonus);
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

    /// `text` with every case-insensitive occurrence of a term (as whole words) in the user's spelling; a term of
    /// everyday words ("Ring") is left as the model wrote it.
    pub fn respell(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (term, _) in self
            .terms
            .iter()
            .zip(&self.tokens)
            .filter(|(_, t)| t.respell)
        {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The longest proper prefix of `seq` that ends `tokens` (0: none).
    fn prefix_len(seq: &[u32], tokens: &[u32]) -> usize {
        (1..seq.len())
            .rev()
            .find(|&k| tokens.ends_with(&seq[..k]))
            .unwrap_or(0)
    }

    /// The bonus of every spelling, looked at one by one: what the index must reproduce.
    fn apply_by_scanning(bias: &Bias, tokens: &[u32], row: &mut [f32]) {
        let mut boosted: HashMap<u32, f32> = HashMap::new();
        for seq in bias.spellings() {
            let k = prefix_len(seq, tokens);
            let bonus = if k == 0 {
                bias.start_bonus()
            } else {
                bias.bonus
            };
            let entry = boosted.entry(seq[k]).or_insert(bonus);
            *entry = entry.max(bonus);
        }
        for (id, bonus) in boosted {
            row[id as usize] += bonus;
        }
    }

    proptest! {
        #[test]
        fn the_index_gives_what_scanning_every_spelling_gives(
            spellings in prop::collection::vec(prop::collection::vec(0u32..12, 1..5), 1..30),
            tokens in prop::collection::vec(0u32..12, 0..8),
        ) {
            let tokens_per_term: Vec<TermTokens> = spellings
                .chunks(3)
                .map(|c| TermTokens {
                    written: c[0].clone(),
                    spellings: c.to_vec(),
                    respell: true,
                    sound: Sound::of(""),
                })
                .collect();
            let terms = (0..tokens_per_term.len()).map(|i| format!("t{i}")).collect();
            let bias = Bias::from_tokens(terms, tokens_per_term, 5.0);
            let (mut fast, mut slow) = (vec![0.0f32; 12], vec![0.0f32; 12]);
            bias.apply(&tokens, &mut fast);
            apply_by_scanning(&bias, &tokens, &mut slow);
            prop_assert_eq!(fast, slow);
            let longest = bias.spellings().map(|s| prefix_len(s, &tokens)).max().unwrap_or(0);
            prop_assert_eq!(bias.matched(&tokens), longest);
            prop_assert_eq!(bias.completes(&tokens), bias.spellings().any(|s| tokens.ends_with(s)));
        }
    }

    #[test]
    fn a_huge_list_is_refused_at_once_and_duplicates_cost_nothing() {
        let huge: Vec<String> = (0..400_000).map(|i| format!("N{i:06}")).collect();
        let err = check_terms(&huge).unwrap_err();
        assert!(err.contains("more than 10000 different terms"), "{err}");
        // 40,000 copies of one term are one term.
        let same: Vec<String> = (0..40_000)
            .map(|i| {
                if i % 2 == 0 {
                    "Aoife".into()
                } else {
                    "AOIFE".into()
                }
            })
            .collect();
        assert_eq!(check_terms(&same).unwrap(), ["Aoife"]);
    }
}
