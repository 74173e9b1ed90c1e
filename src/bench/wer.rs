//! Word error rate with a documented normalizer (the same rules as `models/export/textnorm.py`, which produced the
//! pack's reference numbers):
//! 1. lowercase; `$N` -> `N dollars`; `%` -> ` percent`; `dr.`/`mr.`/`mrs.` -> `doctor`/`mister`/`missus`;
//! 2. `.` or `:` between digits becomes a space (`9.30` -> `9 30`); `,` between digits is dropped;
//! 3. any other character that is not a letter, digit, apostrophe or space becomes a space;
//! 4. digit runs become number words (`420` -> `four hundred twenty`);
//! 5. `and` right after `hundred` or `thousand` is dropped.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

fn number_words(n: u64, out: &mut Vec<String>) {
    match n {
        0..=19 => out.push(ONES[n as usize].to_string()),
        20..=99 => {
            out.push(TENS[(n / 10) as usize].to_string());
            if !n.is_multiple_of(10) {
                out.push(ONES[(n % 10) as usize].to_string());
            }
        }
        100..=999 => {
            out.push(ONES[(n / 100) as usize].to_string());
            out.push("hundred".into());
            if !n.is_multiple_of(100) {
                number_words(n % 100, out);
            }
        }
        1_000..=999_999 => {
            number_words(n / 1000, out);
            out.push("thousand".into());
            if !n.is_multiple_of(1000) {
                number_words(n % 1000, out);
            }
        }
        _ => out.extend(
            n.to_string()
                .chars()
                .filter_map(|c| c.to_digit(10))
                .map(|d| ONES[d as usize].to_string()),
        ),
    }
}

/// Normalize text into words (rules in the module docs).
pub fn normalize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut t = String::with_capacity(lower.len() + 16);
    let mut i = 0;
    let digit = |j: usize| chars.get(j).is_some_and(|c| c.is_ascii_digit());
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
        let word_start = i == 0 || !chars[i - 1].is_alphanumeric();
        if c == '$' && digit(i + 1) {
            let mut j = i + 1;
            while j < chars.len()
                && (chars[j].is_ascii_digit() || (chars[j] == ',' && digit(j + 1)))
            {
                j += 1;
            }
            t.extend(chars[i + 1..j].iter().filter(|c| c.is_ascii_digit()));
            t.push_str(" dollars");
            i = j;
            continue;
        }
        if word_start && rest.starts_with("mrs.") {
            t.push_str("missus");
            i += 4;
        } else if word_start && (rest.starts_with("dr.") || rest.starts_with("mr.")) {
            t.push_str(if c == 'd' { "doctor" } else { "mister" });
            i += 3;
        } else if c == '%' {
            t.push_str(" percent");
            i += 1;
        } else if c == ',' && i > 0 && digit(i - 1) && digit(i + 1) {
            i += 1;
        } else if (c == '.' || c == ':') && i > 0 && digit(i - 1) && digit(i + 1) {
            t.push(' ');
            i += 1;
        } else {
            t.push(if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            });
            i += 1;
        }
    }
    let mut words: Vec<String> = Vec::new();
    for w in t.split_whitespace() {
        let w = w.trim_matches('\'');
        if w.is_empty() {
            continue;
        }
        match w.parse::<u64>() {
            Ok(n) if w.chars().all(|c| c.is_ascii_digit()) => number_words(n, &mut words),
            _ => words.push(w.to_string()),
        }
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        if w == "and"
            && out
                .last()
                .is_some_and(|p| p == "hundred" || p == "thousand")
        {
            continue;
        }
        out.push(w);
    }
    out
}

/// Word-level edit distance.
pub fn edit_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut cur = vec![i + 1; hypothesis.len() + 1];
        for (j, h) in hypothesis.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1)
                .min(cur[j] + 1)
                .min(prev[j] + usize::from(r != h));
        }
        prev = cur;
    }
    prev[hypothesis.len()]
}

/// Word error counts accumulated over a corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WerCounter {
    /// Word edits (substitutions + insertions + deletions).
    pub errors: usize,
    /// Reference words.
    pub words: usize,
}

impl WerCounter {
    /// Add one reference/hypothesis pair.
    pub fn add(&mut self, reference: &str, hypothesis: &str) {
        let r = normalize(reference);
        self.errors += edit_distance(&r, &normalize(hypothesis));
        self.words += r.len();
    }

    /// WER in percent (0 for no reference words).
    pub fn percent(&self) -> f64 {
        100.0 * self.errors as f64 / self.words.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_money_and_titles_normalize_like_the_python_reference() {
        assert_eq!(
            normalize("Please transfer $420 to the savings account at 9.30, Dr. Smith"),
            "please transfer four hundred twenty dollars to the savings account at nine thirty doctor smith"
                .split(' ')
                .collect::<Vec<_>>()
        );
        assert_eq!(
            normalize("four hundred and twenty dollars"),
            normalize("$420")
        );
        assert_eq!(
            normalize("Flight 271, gate 42."),
            normalize("flight two hundred seventy one gate forty two")
        );
    }

    #[test]
    fn wer_counts_edits_over_reference_words() {
        let mut c = WerCounter::default();
        c.add("turn off the lights", "turn of the lights please");
        assert_eq!(
            c,
            WerCounter {
                errors: 2,
                words: 4
            }
        );
        assert_eq!(c.percent(), 50.0);
    }
}
