//! The live view: a rewritten partial line and committed finals on a terminal, finals only when piped, or JSON lines.

use std::io::{IsTerminal, Write};

use earshot::TranscriptEvent;

/// Prints events: a rewritten partial line and committed finals on a terminal, finals only when piped, or JSON lines.
pub struct View {
    json: bool,
    terminal: bool,
    partial_shown: bool,
    pub finals: usize,
}

impl View {
    pub fn new(json: bool) -> View {
        View {
            json,
            terminal: std::io::stdout().is_terminal(),
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
        let mut out = std::io::stdout().lock();
        if matches!(event, TranscriptEvent::Final(_)) {
            self.finals += 1;
        }
        if self.json {
            writeln!(out, "{}", earshot::sink::json_line(event))?;
            return out.flush();
        }
        match event {
            TranscriptEvent::Partial(p) if self.terminal => {
                write!(out, "\r\x1b[2K{}\x1b[2m{}\x1b[0m", p.committed, p.tentative)?;
                self.partial_shown = true;
            }
            TranscriptEvent::Final(t) => {
                if self.partial_shown {
                    write!(out, "\r\x1b[2K")?;
                    self.partial_shown = false;
                }
                writeln!(out, "{}", t.text)?;
            }
            TranscriptEvent::AudioLost(lost) => {
                say!(
                    "earshot: warning: audio from {:.2} s to {:.2} s was lost (the recognizer fell behind; {} frame(s) \
                     lost so far): try a lighter profile or more --threads",
                    lost.start_s, lost.end_s, lost.lost_frames
                );
            }
            _ => {}
        }
        out.flush()
    }

    pub fn end_line(&mut self) -> anyhow::Result<()> {
        if self.partial_shown {
            writeln!(std::io::stdout()).map_err(stdout_error)?;
            self.partial_shown = false;
        }
        Ok(())
    }
}

fn stdout_error(e: std::io::Error) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => e.into(),
        _ => earshot::Error::output("standard output", e).into(),
    }
}
