//! Payload files: per target system, `payloads/<system>/create.jsonl`, `update.jsonl`,
//! `invalid.jsonl` and `skipped.jsonl`, one line per contact in contact-id order.
//!
//! A request line is `{"op", "method", "path", "content_type", "idempotency_key",
//! "contact_id", "target_id", "body"}` (plus `adjustments` when something was changed to
//! fit the vendor); `body` is exactly what the vendor takes. An invalid line is the same
//! request with `violations` (the rule each field breaks, in the vendor's words); a skipped
//! line says why the vendor cannot take the contact. The idempotency key hashes the
//! system, operation, ids and body: the same contact and content give the same key on
//! every run. Contacts the target holds with the same values write nothing.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::lead::System;
use crate::load::datasets::WriteError;
use crate::vendors::write::{Adjustment, Op, Plan, Request, Violation};

/// What was planned for one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PayloadCounts {
    /// Contacts found among the target's existing records.
    pub matched: usize,
    /// Create requests.
    pub creates: usize,
    /// Update requests.
    pub updates: usize,
    /// Contacts the target holds with the same values.
    pub unchanged: usize,
    /// Requests an earlier run emitted already (state): not written again.
    pub already_sent: usize,
    /// Requests that break a vendor rule (not sent).
    pub invalid: usize,
    /// Contacts the vendor cannot take.
    pub skipped: usize,
}

impl PayloadCounts {
    /// Adds another part's counts (`leadrecon merge`).
    pub fn add(&mut self, o: &PayloadCounts) {
        self.matched += o.matched;
        self.creates += o.creates;
        self.updates += o.updates;
        self.unchanged += o.unchanged;
        self.already_sent += o.already_sent;
        self.invalid += o.invalid;
        self.skipped += o.skipped;
    }
}

#[derive(Serialize)]
struct Line<'a> {
    op: Op,
    method: &'a str,
    path: &'a str,
    content_type: &'a str,
    idempotency_key: String,
    contact_id: &'a str,
    target_id: Option<&'a str>,
    body: &'a serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    adjustments: &'a [Adjustment],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    violations: &'a [Violation],
}

#[derive(Serialize)]
struct Skipped<'a> {
    contact_id: &'a str,
    target_id: Option<&'a str>,
    reason: &'a str,
}

/// A stable key for one request: the same contact and content, the same key.
pub fn idempotency_key(
    system: System,
    r: &Request,
    contact_id: &str,
    target_id: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        system.as_str(),
        if r.op == Op::Create {
            "create"
        } else {
            "update"
        },
        contact_id,
        target_id.unwrap_or(""),
        &serde_json::to_string(&r.body).unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One contact's plan for a target.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The contact.
    pub contact_id: String,
    /// Its record in the target, if found.
    pub target_id: Option<String>,
    /// What to do.
    pub plan: Plan,
}

/// Writes one target's four files into `dir` (created), plans sorted by contact id.
pub fn write(dir: &Path, system: System, planned: &[Planned]) -> Result<PayloadCounts, WriteError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| WriteError::Io {
            path: path.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let open = |name: &str| -> Result<(std::path::PathBuf, std::io::BufWriter<std::fs::File>), WriteError> {
        let path = dir.join(name);
        let f = std::fs::File::create(&path).map_err(io(&path))?;
        Ok((path, std::io::BufWriter::new(f)))
    };
    let (pc, mut create) = open("create.jsonl")?;
    let (pu, mut update) = open("update.jsonl")?;
    let (pi, mut invalid) = open("invalid.jsonl")?;
    let (ps, mut skipped) = open("skipped.jsonl")?;
    let mut counts = PayloadCounts::default();
    let line = |w: &mut std::io::BufWriter<std::fs::File>, path: &Path, v: &dyn erased::Json| {
        let text = v.json();
        w.write_all(text.as_bytes())
            .and_then(|_| w.write_all(b"\n"))
            .map_err(io(path))
    };
    for p in planned {
        if p.target_id.is_some() {
            counts.matched += 1;
        }
        match &p.plan {
            Plan::Unchanged => counts.unchanged += 1,
            Plan::AlreadySent => counts.already_sent += 1,
            Plan::Skip(reason) => {
                counts.skipped += 1;
                let s = Skipped {
                    contact_id: &p.contact_id,
                    target_id: p.target_id.as_deref(),
                    reason,
                };
                line(&mut skipped, &ps, &s)?;
            }
            Plan::Send {
                request,
                adjustments,
                violations,
            } => {
                let l = Line {
                    op: request.op,
                    method: request.method,
                    path: &request.path,
                    content_type: request.content_type,
                    idempotency_key: idempotency_key(
                        system,
                        request,
                        &p.contact_id,
                        p.target_id.as_deref(),
                    ),
                    contact_id: &p.contact_id,
                    target_id: p.target_id.as_deref(),
                    body: &request.body,
                    adjustments,
                    violations,
                };
                if !violations.is_empty() {
                    counts.invalid += 1;
                    line(&mut invalid, &pi, &l)?;
                } else if request.op == Op::Create {
                    counts.creates += 1;
                    line(&mut create, &pc, &l)?;
                } else {
                    counts.updates += 1;
                    line(&mut update, &pu, &l)?;
                }
            }
        }
    }
    for (w, path) in [
        (&mut create, &pc),
        (&mut update, &pu),
        (&mut invalid, &pi),
        (&mut skipped, &ps),
    ] {
        w.flush().map_err(io(path))?;
    }
    Ok(counts)
}

/// Serializing the two line shapes through one writer.
mod erased {
    /// A value written as one JSON line.
    pub trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("payload lines serialize")
        }
    }
}
