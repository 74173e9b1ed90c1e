//! The live view: the partial result rewritten in place and committed finals on a terminal, finals only when piped
//! (or on a `TERM=dumb` terminal), or JSON lines. Width, line clearing and styles come from the `console` crate.

use std::io::{IsTerminal, Write};

use console::{measure_text_width, style, Term};
use earshot::TranscriptEvent;

/// Prints events: a partial line rewritten in place and committed finals on a terminal, finals only when piped, or
/// JSON lines.
pub struct View {
    json: bool,
    /// The terminal partials are drawn on (`None`: piped, or a terminal that cannot rewrite a line).
    live: Option<Term>,
    /// Tentative text is dim (off with `NO_COLOR` or a terminal without styles).
    styled: bool,
    partial_shown: bool,
    pub finals: usize,
}

impl View {
    pub fn new(json: bool) -> View {
        let live = (std::io::stdout().is_terminal() && !console::is_dumb()).then(Term::stdout);
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        View {
            json,
            styled: !no_color && console::colors_enabled(),
            live,
            partial_shown: false,
            finals: 0,
        }
    }

    /// Show one event. A closed standard output stays a `BrokenPipe` I/O error (the quiet end of `listen | head`);
    /// any other write failure (a full disk) is an output error naming standard output.
    pub fn show(&mut self, event: &TranscriptEvent) -> anyhow::Result<()> {
        self.write(event).map_err(stdout_error)
    }

    fn write(&mut self, event: &TranscriptEvent) -> std::io::Result<()> {
        if matches!(event, TranscriptEvent::Final(_)) {
            self.finals += 1;
        }
        if self.json {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", earshot::sink::json_line(event))?;
            return out.flush();
        }
        match event {
            TranscriptEvent::Partial(p) => {
                if let Some(term) = &self.live {
                    // One row, whatever the length: the tail that fits the width read now (a resize mid-utterance is
                    // followed), so the line never wraps and is always rewritten whole.
                    let columns = term.size_checked().map_or(80, |(_, columns)| columns);
                    let (committed, tentative) = fit_tail(
                        &p.committed,
                        &p.tentative,
                        usize::from(columns).saturating_sub(1),
                    );
                    let tentative = if self.styled {
                        style(tentative).dim().force_styling(true).to_string()
                    } else {
                        tentative
                    };
                    term.clear_line()?;
                    term.write_str(&format!("{committed}{tentative}"))?;
                    term.flush()?;
                    self.partial_shown = true;
                }
            }
            TranscriptEvent::Final(t) => match &self.live {
                Some(term) => {
                    if self.partial_shown {
                        term.clear_line()?;
                        self.partial_shown = false;
                    }
                    term.write_line(&t.text)?; // in full, once, wrapping as the terminal does
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{}", t.text)?;
                    out.flush()?;
                }
            },
            TranscriptEvent::AudioLost(lost) => {
                say!(
                    "earshot: warning: audio from {:.2} s to {:.2} s was lost (the recognizer fell behind; {} frame(s) \
                     lost so far): try a lighter profile or more --threads",
                    lost.start_s, lost.end_s, lost.lost_frames
                );
            }
            _ => {}
        }
        Ok(())
    }

    pub fn end_line(&mut self) -> anyhow::Result<()> {
        if self.partial_shown {
            writeln!(std::io::stdout()).map_err(stdout_error)?;
            self.partial_shown = false;
        }
        Ok(())
    }
}

/// The end of `committed` + `tentative` that fits in `columns` (a leading `…` when cut), split back into its committed
/// and tentative parts.
fn fit_tail(committed: &str, tentative: &str, columns: usize) -> (String, String) {
    let whole = format!("{committed}{tentative}");
    match tail_start(&whole, columns) {
        None => (committed.to_string(), tentative.to_string()),
        Some(start) if start < committed.len() => {
            (format!("…{}", &committed[start..]), tentative.to_string())
        }
        Some(start) => ("…".to_string(), whole[start..].to_string()),
    }
}

/// `text` shortened from the left to `columns` (a leading `…` when cut): the end of a long path is its file name.
pub fn left_truncate(text: &str, columns: usize) -> String {
    match tail_start(text, columns) {
        None => text.to_string(),
        Some(start) => format!("…{}", &text[start..]),
    }
}

/// Where the longest tail of `text` that fits in `columns` with a leading `…` starts; `None` when all of it fits.
fn tail_start(text: &str, columns: usize) -> Option<usize> {
    if measure_text_width(text) <= columns {
        return None;
    }
    let mut start = text.len();
    let mut used = 1; // the ellipsis
    for (i, c) in text.char_indices().rev() {
        let w = measure_text_width(c.encode_utf8(&mut [0; 4]));
        if used + w > columns {
            break;
        }
        used += w;
        start = i;
    }
    Some(start)
}

fn stdout_error(e: std::io::Error) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => e.into(),
        _ => earshot::Error::output("standard output", e).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{fit_tail, left_truncate};

    #[test]
    fn the_tail_that_fits_keeps_committed_and_tentative_apart() {
        assert_eq!(fit_tail("abc ", "def", 20), ("abc ".into(), "def".into()));
        assert_eq!(fit_tail("abcdef ", "gh", 6), ("…ef ".into(), "gh".into()));
        assert_eq!(fit_tail("ab ", "cdefgh", 4), ("…".into(), "fgh".into()));
        assert_eq!(fit_tail("été ", "über", 5), ("…".into(), "über".into()));
        assert_eq!(fit_tail("été ", "über", 6), ("… ".into(), "über".into()));
        assert_eq!(left_truncate("/a/long/path/q02.wav", 10), "…h/q02.wav");
        assert_eq!(left_truncate("q02.wav", 10), "q02.wav");
    }
}
