//! Local agreement for partial results (as in whisper_streaming's LocalAgreement-2): text that two consecutive
//! decodes of the open segment agree on is committed. Committed text only grows within a segment, and later partial
//! decodes are forced to start with it.

use crate::decode::Vocabulary;

/// Partial-decoding state of the open segment.
#[derive(Debug, Default)]
pub(super) struct Agreement {
    /// First frame of the segment this state belongs to.
    pub start: u64,
    /// Frame up to which the segment was last decoded.
    pub decoded_to: u64,
    /// True once a partial decode of this segment gave text.
    pub any_text: bool,
    /// True once the segment's first partial was reported (its latency is measured once).
    pub first_partial_sent: bool,
    /// True when the last decode was unsure of its own tokens (see `UNSURE_PARTIAL_LOGPROB` in the stream module):
    /// the final's search then skips the greedy search its draft would feed.
    pub unsure: bool,
    committed: Vec<u32>,
    previous: Vec<u32>,
}

impl Agreement {
    /// Fresh state for the segment starting at frame `start`.
    pub fn new(start: u64) -> Agreement {
        Agreement {
            start,
            decoded_to: start,
            ..Agreement::default()
        }
    }

    /// The committed tokens.
    pub fn committed(&self) -> &[u32] {
        &self.committed
    }

    /// The last decode's tokens after the committed ones: the next decode's draft.
    pub fn tentative(&self) -> &[u32] {
        self.previous
            .get(self.committed.len()..)
            .unwrap_or_default()
    }

    /// The last decode's tokens, committed ones included: the draft of the segment's final.
    pub fn previous(&self) -> &[u32] {
        &self.previous
    }

    /// Take a new hypothesis (which starts with the committed tokens): commit the common prefix of it and the
    /// previous one, cut back to a word boundary of this decode, and never into the previous decode's last word (its
    /// audio ended inside it). Returns how many of `tokens` are committed.
    pub fn update(&mut self, tokens: &[u32], vocabulary: &Vocabulary) -> usize {
        let agreed = tokens
            .iter()
            .zip(&self.previous)
            .take_while(|(a, b)| a == b)
            .count();
        let previous_last_word = self
            .previous
            .iter()
            .rposition(|&t| vocabulary.starts_word(t))
            .unwrap_or(0);
        let mut commit = agreed.min(previous_last_word);
        while commit > self.committed.len()
            && !tokens
                .get(commit)
                .is_some_and(|&t| vocabulary.starts_word(t))
        {
            commit -= 1;
        }
        if commit > self.committed.len() {
            self.committed = tokens[..commit].to_vec();
        }
        self.previous = tokens.to_vec();
        self.committed.len()
    }
}
