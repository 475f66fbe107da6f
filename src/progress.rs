//! Progress reporting. Stages report through an [`Observer`] and never print; the binary
//! passes [`Bars`] (indicatif, on stderr, only when it is a terminal) or [`Silent`].

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Receives progress from a run.
pub trait Observer: Sync {
    /// A stage starts; `total` units of work (0: unknown).
    fn start(&self, stage: &str, total: u64);
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// The current stage is done.
    fn finish(&self);
}

/// Reports nothing.
pub struct Silent;

impl Observer for Silent {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Progress bars on stderr.
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars when stderr is a terminal, else `None`.
    pub fn on_terminal() -> Option<Bars> {
        std::io::stderr().is_terminal().then(|| Bars {
            bar: Mutex::new(None),
        })
    }
}

impl Observer for Bars {
    fn start(&self, stage: &str, total: u64) {
        let bar = if total > 0 {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        let style = if total > 0 {
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {elapsed}")
        } else {
            ProgressStyle::with_template("{prefix:>10} {spinner} {elapsed}")
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(stage.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// One JSON object per event on stderr, for schedulers: `stage_start` (with `total` units
/// when known), `stage_end` (with `elapsed_ms`); the binary adds `warning` and `run_end`.
pub struct JsonLog {
    current: Mutex<Option<(String, std::time::Instant)>>,
}

impl JsonLog {
    /// A logger on stderr.
    pub fn new() -> JsonLog {
        JsonLog {
            current: Mutex::new(None),
        }
    }

    /// Writes one event: `fields` plus `ts` (UTC, RFC 3339) and `event`.
    pub fn event(event: &str, fields: serde_json::Value) {
        let mut obj = serde_json::Map::new();
        obj.insert(
            "ts".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        obj.insert("event".into(), event.into());
        if let serde_json::Value::Object(more) = fields {
            obj.extend(more);
        }
        let line = serde_json::Value::Object(obj).to_string();
        let mut err = std::io::stderr().lock();
        let _ = std::io::Write::write_all(&mut err, format!("{line}\n").as_bytes());
    }

    fn end_current(&self) {
        if let Ok(mut slot) = self.current.lock() {
            if let Some((stage, t)) = slot.take() {
                JsonLog::event(
                    "stage_end",
                    serde_json::json!({"stage": stage, "elapsed_ms": t.elapsed().as_millis() as u64}),
                );
            }
        }
    }
}

impl Default for JsonLog {
    fn default() -> JsonLog {
        JsonLog::new()
    }
}

impl Observer for JsonLog {
    fn start(&self, stage: &str, total: u64) {
        self.end_current();
        let mut fields = serde_json::json!({"stage": stage});
        if total > 0 {
            fields["total"] = total.into();
        }
        JsonLog::event("stage_start", fields);
        if let Ok(mut slot) = self.current.lock() {
            *slot = Some((stage.to_string(), std::time::Instant::now()));
        }
    }

    fn advance(&self, _: u64) {}

    fn finish(&self) {
        self.end_current();
    }
}
