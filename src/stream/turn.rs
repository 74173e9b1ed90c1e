//! The `text` end-of-turn detector: does the text the recognizer would finalize sound finished?
//!
//! After a short silence the speculative final is already decoded; a turn is unfinished when its text ends where an
//! English sentence cannot: on an article, a preposition, a conjunction, a possessive, a form of "be" ("remind me
//! to", "my number is", "turn off the"), on a relative pronoun after a noun ("play the album that"), or on a comma,
//! a dash or an ellipsis; or when its last sentence is a subordinate clause still waiting for its main clause ("If
//! the battery runs low."), or when it reads out a phone number or a code still short of its digits ("my number is
//! 555"). Everything else counts as finished.
//! Measured on the turn corpus (`benches/turns/README.md`), this rule alone beat Smart Turn v3.2's audio
//! probability there, and a missed "unfinished" costs only the old wait while a wrong one costs a long wait, so the
//! list holds only words that almost never end a request (no "it", "on", "in", "off", and "that" only after a verb of
//! saying).

/// Words after which an English request almost never ends.
const DANGLING: &[&str] = &[
    // articles and possessive determiners
    "a", "an", "the", "my", "your", "our", "their", "its", "every", "each",
    // prepositions
    "to", "for", "from", "of", "at", "by", "with", "into", "onto", "about", "than", "between",
    "towards", "toward", "via", "per", "until", "till", "during", "through", "without", "against",
    "among", // conjunctions
    "and", "or", "but", "nor", "because", "if", "unless", "whether", "while", "although", "though",
    // forms of "be" and relative pronouns
    "is", "are", "was", "were", "am", "whose",  // reported speech
    "saying", // a request's verb without its object ("can you add", "please call")
    "add", "call", "set", "play", "send", "remind", "tell", "ask", "text", "email", "book", "put",
    "show", "find", "give", "buy", "order", "schedule",
    // Whisper writes a "to" cut off by a pause as "too." ("remind me too.")
    "too",
];

/// "that" ends a request ("cancel that"), but not after a verb of saying or thinking ("send a message saying that").
const BEFORE_THAT: &[&str] = &[
    "saying", "say", "says", "said", "think", "know", "sure", "tell", "telling",
];

/// A relative pronoun after a determiner and a noun opens a relative clause ("play the album that ...", "call the
/// plumber who ..."); Whisper writes it with a full stop when a pause cuts it off.
const RELATIVES: &[&str] = &["that", "who", "which", "where", "whom"];

/// Determiners before the noun a relative clause follows.
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "this", "these", "those", "my", "your", "our", "his", "her", "their", "its",
    "some", "every", "each", "any",
];

/// Words that open a subordinate clause: a last sentence that starts with one and has no comma yet ("If the battery
/// runs low.") lacks its main clause; Whisper writes it with a full stop when a comma pause cuts it off.
const SUBORDINATORS: &[&str] = &[
    "if", "when", "whenever", "after", "before", "because", "although", "though", "while",
    "unless", "since", "once", "until",
];

/// Words after which a number is read out, with the fewest digits such a number has: a phone number ("my number is
/// 555", then a pause before "212 4567") and a door code or PIN (at least 4 digits).
const NUMBERS_READ_OUT: &[(&str, usize)] =
    &[("number", 7), ("code", 4), ("pin", 4), ("passcode", 4)];

/// True when `text` ends where a request cannot: a dangling word, a relative pronoun after a noun, or a comma, dash,
/// colon or ellipsis; or its last sentence is a subordinate clause without its main clause, or a salutation ("Dear
/// team."); or it is reading out a number that is still short of its digits ("My phone number is 381.").
pub fn sounds_unfinished(text: &str) -> bool {
    let text = text.trim_end();
    if lacks_its_main_clause(text) || number_still_coming(text) {
        return true;
    }
    if text.ends_with("...")
        || text.ends_with('…')
        || text.ends_with(',')
        || text.ends_with(':')
        || text.ends_with('-')
        || text.ends_with('—')
    {
        return true;
    }
    let mut words = text.rsplit(|c: char| c.is_whitespace()).map(|w| {
        w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
            .to_lowercase()
    });
    let last = words.next().unwrap_or_default();
    let before = words.next().unwrap_or_default();
    let determiner = words.next().unwrap_or_default();
    if RELATIVES.contains(&last.as_str()) && DETERMINERS.contains(&determiner.as_str()) {
        return true;
    }
    if last == "that" {
        return BEFORE_THAT.contains(&before.as_str());
    }
    DANGLING.contains(&last.as_str())
}

/// `text` ends on digits read out after one of [`NUMBERS_READ_OUT`]'s words, fewer than that number has.
fn number_still_coming(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let all_digits = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    if !words.last().is_some_and(|w| all_digits(w)) {
        return false;
    }
    let Some((at, fewest)) = words.iter().enumerate().rev().find_map(|(i, w)| {
        NUMBERS_READ_OUT
            .iter()
            .find(|(word, _)| word == w)
            .map(|&(_, digits)| (i, digits))
    }) else {
        return false;
    };
    let digits: usize = words[at + 1..]
        .iter()
        .filter(|w| all_digits(w))
        .map(|w| w.len())
        .sum();
    digits < fewest
}

/// The last sentence of `text` (not a question) opens with a subordinator and has no comma, or is "Dear" and at most
/// two more words.
fn lacks_its_main_clause(text: &str) -> bool {
    if text.ends_with('?') {
        return false;
    }
    let body = text.trim_end_matches(['.', '!']);
    let last = body
        .rfind(['.', '?', '!'])
        .map_or(body, |at| &body[at + 1..])
        .trim();
    let first = last
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    (SUBORDINATORS.contains(&first.as_str()) && !last.contains(','))
        || (first == "dear" && last.split_whitespace().count() <= 3)
}

#[cfg(test)]
mod tests {
    use super::sounds_unfinished;

    #[test]
    fn dangling_words_and_marks_are_unfinished() {
        for text in [
            " Remind me to",
            "Set a timer for.",
            "My phone number is",
            "Turn off the...",
            "Add milk and",
            "Call my,",
            "I'd like to book a table for ",
            "Send a message to Anna saying",
            "Well…",
            "Send a message to Dan saying that.",
            "Can you add?",
            "Remind me too.",
            "If the battery runs low.",
            "Thanks. After the storm passed.",
            "Dear team.",
            "Play the album that.",
            "Call the plumber who.",
            "My phone number is 381",
            "My number is 555 212.",
            "My phone number is 707. 467",
            "The code for the garage door is 3-1.",
            "The PIN is 42.",
        ] {
            assert!(sounds_unfinished(text), "{text:?}");
        }
    }

    #[test]
    fn sentences_that_can_end_are_finished() {
        for text in [
            " Set a timer for ten minutes.",
            "Switch the lights on.",
            "What time is it?",
            "I like that.",
            "Cancel that.",
            "My number is 555 212 4567.",
            "The code for the garage door is 3117.",
            "Call 911.",
            "Give me 3 numbers: 4, 8.",
            "Turn the radio off",
            "",
            "Stop!",
            "When does the pharmacy open?",
            "If it rains, close the windows.",
            "Dear team, thank you for your work.",
            "Before you go. Lock the door.",
            "Play that.",
            "Guess who.",
            "I don't know which.",
        ] {
            assert!(!sounds_unfinished(text), "{text:?}");
        }
    }
}
