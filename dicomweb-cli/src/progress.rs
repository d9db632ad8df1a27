//! The progress bar of long transfers, and notes about retries.
//!
//! [`Progress`] receives the client's [`ProgressEvent`]s. It draws on standard error, and only
//! when standard error is a terminal and `--quiet` was not given; retries are noted above the
//! bar (or as a plain line when there is no bar) unless `--quiet`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dicomweb_client::{ProgressEvent, ProgressObserver};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a command shows while it works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// No bar (short requests); retries are still noted.
    Notes,
    /// A bar counting bytes received and items (instances, frames, images) saved.
    Download(&'static str),
    /// A bar counting bytes sent and instances stored, out of known totals.
    Upload,
}

/// Draws the bar and prints retry notes. Shared by every request of a command.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
    unit: &'static str,
    items: AtomicU64,
    total_items: AtomicU64,
}

impl Progress {
    /// A display for a command; `quiet` hides the bar and the retry notes.
    pub fn new(display: Display, quiet: bool) -> Progress {
        let visible = !quiet && display != Display::Notes && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        let (template, unit) = match display {
            Display::Upload => (
                "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg} {elapsed}",
                "instances",
            ),
            Display::Download(unit) => (
                "{spinner} {bytes} {binary_bytes_per_sec} {msg} {elapsed}",
                unit,
            ),
            Display::Notes => ("{msg}", ""),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        if visible {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        let progress = Progress {
            bar,
            quiet,
            unit,
            items: AtomicU64::new(0),
            total_items: AtomicU64::new(0),
        };
        progress.show_items();
        progress
    }

    /// Sets the totals of an upload: bytes and items.
    pub fn set_totals(&self, bytes: u64, items: u64) {
        self.bar.set_length(bytes);
        self.total_items.store(items, Ordering::Relaxed);
        self.show_items();
    }

    /// Counts items done (for transfers the client does not count itself).
    pub fn add_items(&self, count: u64) {
        self.items.fetch_add(count, Ordering::Relaxed);
        self.show_items();
    }

    /// Removes the bar (the summary printed next stays alone on the screen).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// A line above the bar, or on standard error when there is no bar; nothing if quiet.
    pub fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("dicomweb: {line}");
        } else {
            self.bar.println(format!("dicomweb: {line}"));
        }
    }

    fn show_items(&self) {
        if self.unit.is_empty() {
            return;
        }
        let done = self.items.load(Ordering::Relaxed);
        let total = self.total_items.load(Ordering::Relaxed);
        let message = if total > 0 {
            format!("{done}/{total} {}", self.unit)
        } else {
            format!("{done} {}", self.unit)
        };
        self.bar.set_message(message);
    }
}

impl ProgressObserver for Progress {
    fn on_progress(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::BytesSent { bytes } | ProgressEvent::BytesReceived { bytes } => {
                self.bar.inc(*bytes);
            }
            ProgressEvent::InstancesSent { count } | ProgressEvent::InstancesReceived { count } => {
                self.add_items(*count);
            }
            ProgressEvent::Retrying { delay, reason, .. } => {
                self.note(&format!("retrying in {}: {reason}", human_delay(*delay)));
            }
            _ => {}
        }
    }
}

/// `2s`, `1.5s`, `250ms`.
pub fn human_delay(delay: Duration) -> String {
    let millis = delay.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{:.1}s", delay.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_read_naturally() {
        assert_eq!(human_delay(Duration::from_secs(2)), "2s");
        assert_eq!(human_delay(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_delay(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn a_hidden_bar_still_counts() {
        let progress = Progress::new(Display::Upload, true);
        progress.set_totals(100, 4);
        progress.on_progress(&ProgressEvent::BytesSent { bytes: 60 });
        progress.on_progress(&ProgressEvent::InstancesSent { count: 3 });
        assert_eq!(progress.bar.position(), 60);
        assert_eq!(progress.bar.message(), "3/4 instances");
    }
}
