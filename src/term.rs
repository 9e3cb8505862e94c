//! What the command line writes: results on stdout (text or one JSON object), warnings on
//! stderr, and spinners on stderr while a long step runs, only where a person watches.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{ErrorKind, IsTerminal, Write};
use std::time::Duration;

pub struct Term {
    pub json: bool,
    spinners: bool,
}

impl Term {
    pub fn new(json: bool) -> Self {
        Term { json, spinners: !json && std::io::stderr().is_terminal() }
    }

    /// Runs one long step under a spinner naming it.
    pub fn step<T>(&self, message: &str, work: impl FnOnce() -> T) -> T {
        if !self.spinners {
            return work();
        }
        let spinner =
            ProgressBar::new_spinner().with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a constant template")).with_message(message.to_string());
        // Drawn at once, not at the first tick, so that a step shorter than a tick is seen too.
        spinner.tick();
        spinner.enable_steady_tick(Duration::from_millis(100));
        let out = work();
        spinner.finish_and_clear();
        out
    }

    /// Text on stdout. A reader that has gone (`zkinfer ... | head`) is not an error: the
    /// command's work is done and its exit code still tells how it went.
    pub fn print(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }

    /// A line on stderr; there is nowhere left to report a failure to write it.
    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}
