//! How alike two spellings sound: the distance between their Double Metaphone keys ([`rphonetic`]), so that a
//! listed term may replace words that sound like it ("graph on a" -> Grafana, "Joe Quinn" -> Joaquin) more easily
//! than words that do not ("fridge" -> Frigate, "the key" -> Joaquin).

use rphonetic::DoubleMetaphone;

/// Longest key compared (letters of a span of a few words).
const MAX_KEY: usize = 32;

/// The distance between the sounds of `a` and `b`, from 0 (same key) to 1 (nothing alike): the Levenshtein distance
/// between their closest Double Metaphone keys (primary or alternate; ASCII letters only: spaces, digits, punctuation
/// and accented letters are dropped, the encoder takes no other), over the longer key's length. 1 when either has
/// no key.
pub(crate) fn distance(a: &str, b: &str) -> f32 {
    let encoder = DoubleMetaphone::new(Some(MAX_KEY));
    let keys = |text: &str| {
        let letters: String = text.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        let result = encoder.double_metaphone(&letters);
        [result.primary(), result.alternate()]
    };
    let (ka, kb) = (keys(a), keys(b));
    let mut best = 1.0f32;
    for x in ka.iter().filter(|k| !k.is_empty()) {
        for y in kb.iter().filter(|k| !k.is_empty()) {
            let longer = x.chars().count().max(y.chars().count());
            best = best.min(strsim::levenshtein(x, y) as f32 / longer as f32);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::distance;

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
