//! Apply's progress, three ways over one event stream ([`crate::apply::Event`]): plain
//! lines (Terraform's "aws_vpc.main: Creation complete after 2s [id=vpc-...]"), a live
//! display on a terminal (one line per resource with a spinner and its elapsed time,
//! through indicatif), and `-json`: one JSON object per line, for machines.

use crate::apply::{Event, Progress, Verb};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

/// "7s", "2m5s".
pub fn elapsed(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}m{}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// The line an event prints as (None for events shown only live).
pub fn line(event: &Event) -> String {
    match event {
        Event::Started { addr, verb, id } => match (verb, id) {
            (Verb::Create | Verb::Replace, _) | (_, None) => format!("{addr}: {}...", verb.doing()),
            (_, Some(id)) => format!("{addr}: {}... [id={id}]", verb.doing()),
        },
        Event::Finished {
            addr,
            verb,
            elapsed: e,
            id,
        } => match id {
            Some(id) => format!("{addr}: {} complete after {} [id={id}]", verb.done(), elapsed(*e)),
            None => format!("{addr}: {} complete after {}", verb.done(), elapsed(*e)),
        },
        Event::Failed {
            addr,
            verb,
            elapsed: e,
            error,
        } => format!("{addr}: {} failed after {}: {error}", verb.done(), elapsed(*e)),
        Event::RollbackStarted { reason, steps } => format!(
            "\nRolling back: {reason}\nNothing new starts; undoing {steps} completed step(s), dependents first."
        ),
        Event::RollbackResumed { started, steps } => format!(
            "A rollback of the apply started {started} is pending; resuming it first ({steps} step(s) to undo)."
        ),
        Event::RollbackFinished { undone, failed: 0 } => {
            format!("Rollback complete: {undone} step(s) undone.")
        }
        Event::RollbackFinished { undone, failed } => format!(
            "Rollback incomplete: {undone} step(s) undone, {failed} not. The rollback stays pending in state; keel apply or keel rollback resumes it."
        ),
        Event::Adopted { addr, id } => format!(
            "{addr}: an interrupted apply created {id} without recording it; adopted into state."
        ),
        Event::Importing { addr, id } => format!("{addr}: Importing... [id={id}]"),
        Event::Imported { addr, id } => format!("{addr}: Import complete [id={id}]"),
        Event::ImportUndone { addr, id } => format!(
            "{addr}: Import undone [id={id}]: keel's tags removed and state no longer records it; the object stays in the cloud, as before the apply."
        ),
        Event::Parallelism { limit, retries } => format!(
            "The cloud asked for {retries} retries so far; now at most {limit} calls at once."
        ),
        Event::DataReading { addr } => format!("{addr}: Reading..."),
        Event::DataRead { addr, elapsed: e, id } => {
            format!("{addr}: Read complete after {} [id={id}]", elapsed(*e))
        }
        Event::Interrupted { presses: 1 } => "\nInterrupt received: nothing new starts; once the calls in flight return, the apply rolls back. Press Ctrl-C again to stop without rolling back (the rollback then stays pending).".to_string(),
        Event::Interrupted { .. } => "\nSecond interrupt: stopping once the calls in flight return. The rollback stays pending: run keel rollback to finish it.".to_string(),
    }
}

/// Passes events on with every secret in their free text (cloud error messages, a
/// rollback's reason) replaced: a cloud error can echo what was sent.
pub struct Redacting<'a> {
    inner: &'a mut dyn Progress,
    redact: &'a super::Redactor,
}

impl<'a> Redacting<'a> {
    pub fn new(inner: &'a mut dyn Progress, redact: &'a super::Redactor) -> Redacting<'a> {
        Redacting { inner, redact }
    }
}

impl Progress for Redacting<'_> {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Failed {
                addr,
                verb,
                elapsed,
                error,
            } => {
                let mut error = error.clone();
                error.message = self.redact.text(&error.message);
                self.inner.event(&Event::Failed {
                    addr: addr.clone(),
                    verb: *verb,
                    elapsed: *elapsed,
                    error,
                })
            }
            Event::RollbackStarted { reason, steps } => self.inner.event(&Event::RollbackStarted {
                reason: self.redact.text(reason),
                steps: *steps,
            }),
            other => self.inner.event(other),
        }
    }
}

/// Plain lines on standard output.
pub struct Plain;

impl Progress for Plain {
    fn event(&mut self, event: &Event) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", line(event));
        let _ = out.flush();
    }
}

/// One JSON object per line on standard output.
pub struct JsonLines;

/// An event as JSON.
pub fn json_event(event: &Event) -> serde_json::Value {
    let ms = |d: &Duration| d.as_millis() as u64;
    match event {
        Event::Started { addr, verb, id } => json!({
            "type": "started", "address": addr.to_string(), "action": verb.name(), "id": id,
        }),
        Event::Finished {
            addr,
            verb,
            elapsed,
            id,
        } => json!({
            "type": "finished", "address": addr.to_string(), "action": verb.name(),
            "elapsed_ms": ms(elapsed), "id": id,
        }),
        Event::Failed {
            addr,
            verb,
            elapsed,
            error,
        } => json!({
            "type": "failed", "address": addr.to_string(), "action": verb.name(),
            "elapsed_ms": ms(elapsed),
            "error": { "code": error.code, "message": error.message },
        }),
        Event::RollbackStarted { reason, steps } => {
            json!({ "type": "rollback_started", "reason": reason, "steps": steps })
        }
        Event::RollbackResumed { started, steps } => {
            json!({ "type": "rollback_resumed", "apply_started": started, "steps": steps })
        }
        Event::RollbackFinished { undone, failed } => {
            json!({ "type": "rollback_finished", "undone": undone, "failed": failed })
        }
        Event::Adopted { addr, id } => {
            json!({ "type": "adopted", "address": addr.to_string(), "id": id })
        }
        Event::Importing { addr, id } => {
            json!({ "type": "importing", "address": addr.to_string(), "id": id })
        }
        Event::Imported { addr, id } => {
            json!({ "type": "imported", "address": addr.to_string(), "id": id })
        }
        Event::ImportUndone { addr, id } => {
            json!({ "type": "import_undone", "address": addr.to_string(), "id": id })
        }
        Event::Parallelism { limit, retries } => {
            json!({ "type": "parallelism", "limit": limit, "retries": retries })
        }
        Event::DataReading { addr } => {
            json!({ "type": "data_reading", "address": addr.to_string() })
        }
        Event::DataRead { addr, elapsed, id } => json!({
            "type": "data_read", "address": addr.to_string(), "elapsed_ms": ms(elapsed), "id": id,
        }),
        Event::Interrupted { presses } => json!({ "type": "interrupted", "presses": presses }),
    }
}

impl Progress for JsonLines {
    fn event(&mut self, event: &Event) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", json_event(event));
        let _ = out.flush();
    }
}

/// A live display: a spinner line per running step, left behind as a plain line when
/// the step ends.
pub struct Live {
    bars: MultiProgress,
    running: HashMap<(String, &'static str), ProgressBar>,
    style: ProgressStyle,
}

impl Live {
    pub fn new() -> Live {
        Live {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            running: HashMap::new(),
            style: ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Progress for Live {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Started { addr, verb, .. } => {
                let bar = self.bars.add(ProgressBar::new_spinner());
                bar.set_style(self.style.clone());
                bar.set_message(line(event));
                bar.enable_steady_tick(Duration::from_millis(120));
                self.running.insert((addr.to_string(), verb.name()), bar);
            }
            Event::Finished { addr, verb, .. } | Event::Failed { addr, verb, .. } => {
                if let Some(bar) = self.running.remove(&(addr.to_string(), verb.name())) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
                let _ = self.bars.println(line(event));
            }
            other => {
                let _ = self.bars.println(line(other));
            }
        }
    }
}
