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

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::lead::System;
use crate::load::datasets::WriteError;
use crate::state::Sent;
use crate::vendors::write::{Op, Plan};

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
    idempotency_key: &'a str,
    contact_id: &'a str,
    target_id: Option<&'a str>,
    body: &'a RawValue,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    adjustments: &'a [&'a RawValue],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    violations: &'a [&'a RawValue],
}

/// Adjustments and violations as JSON, each distinct one serialized once per thread and
/// its text reused: a run's lines say the same few things over and over (most of a
/// million Lead.Pro lines break the advert-address rule, or had their source sent as
/// `homepage`), and escaping the same words again for every line was most of the cost of
/// writing those lines. At most [`Said::MOST`] are kept: past that (notes that quote a
/// contact's own values), the rest are serialized where they are said.
#[derive(Default)]
struct Said {
    /// The kept ones, under a hash of their kind, field and words.
    kept: foldhash::HashMap<u64, Vec<Kept>>,
    held: usize,
}

/// A kept adjustment or violation: whether it is a violation, its field, its words and
/// its JSON.
type Kept = (bool, Box<str>, Box<str>, Rc<RawValue>);

impl Said {
    const MOST: usize = 4096;

    /// The JSON of `value` (a violation or not, of `field`, saying `text`): the kept
    /// one, or made now and kept while there is room.
    fn json(
        &mut self,
        violation: bool,
        field: &str,
        text: &str,
        value: &impl Serialize,
    ) -> Rc<RawValue> {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::with_seed(0x5a1d).hash_one((violation, field, text));
        let found = self.kept.get(&hash).and_then(|kept| {
            kept.iter()
                .find(|(v, f, t, _)| *v == violation && &**f == field && &**t == text)
        });
        if let Some((.., json)) = found {
            return Rc::clone(json);
        }
        let json: Rc<RawValue> = serde_json::value::to_raw_value(value)
            .expect("notes serialize")
            .into();
        if self.held < Said::MOST {
            let kept = (violation, field.into(), text.into(), Rc::clone(&json));
            self.kept.entry(hash).or_default().push(kept);
            self.held += 1;
        }
        json
    }
}

thread_local! {
    static SAID: std::cell::RefCell<Said> = std::cell::RefCell::new(Said::default());
}

#[derive(Serialize)]
struct Skipped<'a> {
    contact_id: &'a str,
    target_id: Option<&'a str>,
    reason: &'a str,
}

/// A stable key for one request: the same contact and content, the same key. `body` is
/// the body as serialized once (compact JSON).
fn key_of(system: System, op: Op, contact_id: &str, target_id: Option<&str>, body: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        system.as_str(),
        if op == Op::Create { "create" } else { "update" },
        contact_id,
        target_id.unwrap_or(""),
        body,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    crate::hex::string(&h.finalize()[..16])
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

/// Which payload file a contact's line goes to, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// The target holds the same values: no line.
    Unchanged,
    /// An earlier run emitted the same request: no line.
    AlreadySent,
    /// `skipped.jsonl`.
    Skipped,
    /// `create.jsonl`.
    Create,
    /// `update.jsonl`.
    Update,
    /// `invalid.jsonl`.
    Invalid,
}

/// One contact's plan rendered to its payload line: the body is serialized once, for the
/// idempotency key and the line both, and the plan's values are dropped.
#[derive(Debug)]
pub struct Rendered {
    /// Where the line goes.
    pub kind: LineKind,
    /// Whether the contact was found among the target's records.
    pub matched: bool,
    /// The JSON line (without its newline), for the kinds that write one.
    pub line: Option<String>,
    /// What the state remembers of a request that will be sent (when asked to keep it).
    pub sent: Option<(String, Sent)>,
}

/// Renders one contact's plan. `sent_before` is what an earlier run emitted for this
/// contact: the same idempotency key makes the plan [`LineKind::AlreadySent`].
/// With `keep_sent`, a request that will be sent is returned for the state to remember.
pub fn render(
    system: System,
    planned: Planned,
    sent_before: Option<&Sent>,
    keep_sent: bool,
) -> Rendered {
    let Planned {
        contact_id,
        target_id,
        plan,
    } = planned;
    let matched = target_id.is_some();
    let none = |kind| Rendered {
        kind,
        matched,
        line: None,
        sent: None,
    };
    match plan {
        Plan::Unchanged => none(LineKind::Unchanged),
        Plan::AlreadySent => none(LineKind::AlreadySent),
        Plan::Skip(reason) => Rendered {
            kind: LineKind::Skipped,
            matched,
            line: Some(json(
                &Skipped {
                    contact_id: &contact_id,
                    target_id: target_id.as_deref(),
                    reason: &reason,
                },
                128 + reason.len(),
            )),
            sent: None,
        },
        Plan::Send {
            request,
            adjustments,
            violations,
        } => {
            let body = serde_json::value::to_raw_value(&request.body).expect("bodies serialize");
            let key = key_of(
                system,
                request.op,
                &contact_id,
                target_id.as_deref(),
                body.get(),
            );
            if sent_before.is_some_and(|s| s.idempotency_key == key) {
                return none(LineKind::AlreadySent);
            }
            let kind = if !violations.is_empty() {
                LineKind::Invalid
            } else if request.op == Op::Create {
                LineKind::Create
            } else {
                LineKind::Update
            };
            // Room for the body and the rest of the line (about 200 bytes, and each
            // adjustment's or violation's field and note).
            let room = body.get().len() + 256 + 128 * (adjustments.len() + violations.len());
            let (adjusted, broken): (Vec<Rc<RawValue>>, Vec<Rc<RawValue>>) =
                SAID.with_borrow_mut(|said| {
                    (
                        adjustments
                            .iter()
                            .map(|a| said.json(false, &a.field, &a.note, a))
                            .collect(),
                        violations
                            .iter()
                            .map(|v| said.json(true, &v.field, &v.message, v))
                            .collect(),
                    )
                });
            fn raw(notes: &[Rc<RawValue>]) -> Vec<&RawValue> {
                notes.iter().map(|n| &**n).collect()
            }
            let line = json(
                &Line {
                    op: request.op,
                    method: request.method,
                    path: &request.path,
                    content_type: request.content_type,
                    idempotency_key: &key,
                    contact_id: &contact_id,
                    target_id: target_id.as_deref(),
                    body: &body,
                    adjustments: &raw(&adjusted),
                    violations: &raw(&broken),
                },
                room,
            );
            let sent = (keep_sent && violations.is_empty()).then(|| {
                let op = if request.op == Op::Create {
                    "create"
                } else {
                    "update"
                };
                let sent = Sent {
                    op: op.into(),
                    idempotency_key: key,
                    target_id,
                    body: request.body,
                };
                (contact_id, sent)
            });
            Rendered {
                kind,
                matched,
                line: Some(line),
                sent,
            }
        }
    }
}

fn json<T: Serialize>(value: &T, room: usize) -> String {
    crate::json::to_string_with_capacity(value, room).expect("payload lines serialize")
}

/// Writes one target's four files into a folder, a rendered line at a time, in the order
/// given (contact-id order).
pub struct PayloadWriter {
    files: [(PathBuf, BufWriter<File>); 4],
    counts: PayloadCounts,
}

impl PayloadWriter {
    /// Creates `dir` and its four files.
    pub fn create(dir: &Path) -> Result<PayloadWriter, WriteError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let open = |name: &str| -> Result<(PathBuf, BufWriter<File>), WriteError> {
            let path = dir.join(name);
            let f = File::create(&path).map_err(io(&path))?;
            Ok((path, BufWriter::with_capacity(1 << 16, f)))
        };
        Ok(PayloadWriter {
            files: [
                open("create.jsonl")?,
                open("update.jsonl")?,
                open("invalid.jsonl")?,
                open("skipped.jsonl")?,
            ],
            counts: PayloadCounts::default(),
        })
    }

    /// Counts one contact and writes its line.
    pub fn push(&mut self, r: &Rendered) -> Result<(), WriteError> {
        let c = &mut self.counts;
        if r.matched {
            c.matched += 1;
        }
        let file = match r.kind {
            LineKind::Unchanged => {
                c.unchanged += 1;
                return Ok(());
            }
            LineKind::AlreadySent => {
                c.already_sent += 1;
                return Ok(());
            }
            LineKind::Create => {
                c.creates += 1;
                0
            }
            LineKind::Update => {
                c.updates += 1;
                1
            }
            LineKind::Invalid => {
                c.invalid += 1;
                2
            }
            LineKind::Skipped => {
                c.skipped += 1;
                3
            }
        };
        let (path, w) = &mut self.files[file];
        let line = r.line.as_deref().unwrap_or_default();
        w.write_all(line.as_bytes())
            .and_then(|_| w.write_all(b"\n"))
            .map_err(io(path))
    }

    /// Flushes the files; the target's counts.
    pub fn finish(mut self) -> Result<PayloadCounts, WriteError> {
        for (path, w) in &mut self.files {
            w.flush().map_err(io(path))?;
        }
        Ok(self.counts)
    }
}

/// The error for `path`, its name formatted only when there is one (a payload line is
/// written a million and a half times in a big run).
fn io(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field_map::FieldMap;
    use crate::vendors::write::{Adjustment, Request, Violation};

    /// Lines say their adjustments and violations as serde_json does, whether each one's
    /// JSON was kept from an earlier line, kept now, or made for this line once
    /// [`Said::MOST`] are kept (the same line mixes them), with quotes and control
    /// characters in the words.
    #[test]
    fn kept_notes_write_the_lines_serde_json_does() {
        for i in 0..Said::MOST + 40 {
            let mut body = FieldMap::new();
            body.insert(
                "first_name".into(),
                serde_json::Value::from(format!("Ann {i}")),
            );
            let adjustments = vec![
                Adjustment {
                    field: "type".into(),
                    note: "no buyer-and-seller type: sent as sale".into(),
                },
                Adjustment {
                    field: "source".into(),
                    note: format!("`Open \"House\" {i}`\n is not a source: sent as homepage"),
                },
            ];
            let violations = if i % 3 == 0 {
                vec![Violation::new("phone", "digits only, at most 15\t(\u{1})")]
            } else {
                vec![]
            };
            let request = Request {
                op: Op::Create,
                method: "POST",
                path: "api/v103/leads".into(),
                content_type: "application/json",
                body,
            };
            let text = serde_json::to_string(&request.body).unwrap();
            let contact_id = format!("c-{i:012x}");
            let key = key_of(System::Leadpro, Op::Create, &contact_id, None, &text);
            // The whole line as one value (its keys in order), notes serialized in place.
            let mut want = serde_json::json!({
                "op": "create",
                "method": "POST",
                "path": "api/v103/leads",
                "content_type": "application/json",
                "idempotency_key": key,
                "contact_id": contact_id,
                "target_id": null,
                "body": request.body,
                "adjustments": adjustments,
            });
            if !violations.is_empty() {
                want["violations"] = serde_json::json!(violations);
            }
            let want = serde_json::to_string(&want).unwrap();
            let planned = Planned {
                contact_id,
                target_id: None,
                plan: Plan::Send {
                    request,
                    adjustments,
                    violations,
                },
            };
            let rendered = render(System::Leadpro, planned, None, false);
            assert_eq!(rendered.line.as_deref(), Some(want.as_str()), "line {i}");
        }
        SAID.with_borrow(|said| assert_eq!(said.held, Said::MOST));
    }
}
