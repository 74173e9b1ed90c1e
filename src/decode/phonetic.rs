//! How alike two spellings sound: the distance between their Double Metaphone keys ([`rphonetic`]), so that a
//! listed term may replace words that sound like it ("graph on a" -> Grafana, "Joe Quinn" -> Joaquin) more easily
//! than words that do not ("fridge" -> Frigate, "the key" -> Joaquin).

use rphonetic::DoubleMetaphone;

/// Longest key compared (letters of a span of a few words).
const MAX_KEY: usize = 32;

/// The sound of a spelling: its Double Metaphone keys, primary and alternate (ASCII letters only: spaces, digits,
/// punctuation and accented letters are dropped, the encoder takes no other).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sound([String; 2]);

impl Sound {
    /// The sound of `text`.
    pub(crate) fn of(text: &str) -> Sound {
        let letters: String = text.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        let keys = DoubleMetaphone::new(Some(MAX_KEY)).double_metaphone(&letters);
        Sound([keys.primary(), keys.alternate()])
    }

    /// From 0 (same key) to 1 (nothing alike): the Levenshtein distance between the closest keys of the two, over
    /// the longer key's length; 1 when either has no key.
    pub(crate) fn distance(&self, other: &Sound) -> f32 {
        let mut best = 1.0f32;
        for x in self.0.iter().filter(|k| !k.is_empty()) {
            for y in other.0.iter().filter(|k| !k.is_empty()) {
                let longer = x.len().max(y.len());
                best = best.min(strsim::levenshtein(x, y) as f32 / longer as f32);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::Sound;

    fn distance(a: &str, b: &str) -> f32 {
        Sound::of(a).distance(&Sound::of(b))
    }

    #[test]
    fn words_that_sound_like_a_term_are_near_it_and_others_are_not() {
        assert_eq!(distance("graph on a", "Grafana"), 0.0);
        assert_eq!(distance("Joe Quinn", "Joaquin"), 0.0);
        assert!(distance("robot rock", "Roborock") <= 0.25);
        assert!(distance("fridge", "Frigate") >= 0.5);
        assert!(distance("the key", "Joaquin") >= 0.5);
        assert!(distance("night on", "nginx") >= 0.5);
    }

    #[test]
    fn text_without_letters_is_far_from_everything() {
        assert_eq!(distance("10", "Tadhg"), 1.0);
        assert_eq!(distance("", ""), 1.0);
        assert_eq!(distance(", .", "Zoë"), 1.0);
        assert!(distance("Zoë", "Zoe") < 1.0);
        for odd in [
            "x", "GH", "Mc", "WH", "SCH", "CZ", "aaaa", "Tsch", "ough", "&'-",
        ] {
            assert!((0.0..=1.0).contains(&distance(odd, "Grafana")));
        }
    }
}
