//! The `text` end-of-turn detector: does the text the recognizer would finalize sound finished?
//!
//! After a short silence the speculative final is already decoded; a turn is unfinished when its text ends where an
//! English sentence cannot: on an article, a preposition, a conjunction, a possessive, a form of "be" ("remind me
//! to", "my number is", "turn off the"), or on a comma, a dash or an ellipsis. Everything else counts as finished.
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

/// True when `text` ends where a request cannot: a dangling word or a comma, dash, colon or ellipsis.
pub fn sounds_unfinished(text: &str) -> bool {
    let text = text.trim_end();
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
    if last == "that" {
        return words
            .next()
            .is_some_and(|before| BEFORE_THAT.contains(&before.as_str()));
    }
    DANGLING.contains(&last.as_str())
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
            "My number is 555 212.",
            "Turn the radio off",
            "",
            "Stop!",
        ] {
            assert!(!sounds_unfinished(text), "{text:?}");
        }
    }
}
