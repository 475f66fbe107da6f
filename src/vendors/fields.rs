//! Typed access to a record's fields, shared by the vendor adapters.
//!
//! Each accessor takes a field out of the record (so what is left over can be kept in
//! `custom`) and turns a wrong type into a `wrong_type` reject that names the field.

use compact_str::CompactString;
use serde_json::{Map, Value};

use crate::extract::Record;
use crate::field_map::FieldMap;
use crate::lead::Lead;
use crate::redact;
use crate::reject::{Place, Reason, Reject, Stage};

/// A Real Geeks style sparse field: absent (leave alone), unset (`""` or `null`), or set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch {
    /// The delivery does not mention the field.
    Absent,
    /// The delivery clears the field.
    Unset,
    /// The delivery sets the field.
    Set(String),
}

/// A record's fields being read by an adapter.
pub struct Fields<'r> {
    map: FieldMap,
    place: Place<'r>,
    raw: &'r str,
}

impl<'r> Fields<'r> {
    /// The fields of a record, taken out of it (no copy).
    pub fn take(record: &mut Record<'r>, place: Place<'r>) -> Fields<'r> {
        Fields {
            map: std::mem::take(&mut record.fields),
            place,
            raw: record.raw,
        }
    }

    /// Fields of a nested object of the same record (a webhook's `data`).
    pub fn nested(&self, map: Map<String, Value>) -> Fields<'r> {
        Fields {
            map: map.into(),
            place: self.place,
            raw: self.raw,
        }
    }

    /// A reject for this record.
    pub fn reject(
        &self,
        stage: Stage,
        reason: Reason,
        field: &str,
        detail: impl Into<String>,
    ) -> Reject {
        self.place.reject(stage, reason, field, detail, self.raw)
    }

    fn wrong(&self, field: &str, expected: &str, got: &Value) -> Reject {
        self.reject(
            Stage::Parse,
            Reason::WrongType,
            field,
            format!("`{field}` should be {expected}, found {}", describe(got)),
        )
    }

    /// Whether the field is present (even blank).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Whether the field holds an object.
    pub fn is_object(&self, key: &str) -> bool {
        matches!(self.map.get(key), Some(Value::Object(_)))
    }

    /// A text field: strings as they are, numbers and booleans as written; blank → `None`.
    pub fn text(&mut self, key: &str) -> Result<Option<String>, Reject> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok((!s.trim().is_empty()).then_some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.wrong(key, "text", &other)),
        }
    }

    /// A text field, `""` when absent or blank.
    pub fn string(&mut self, key: &str) -> Result<String, Reject> {
        Ok(self.text(key)?.unwrap_or_default())
    }

    /// The first present text field of several spellings.
    pub fn text_any(&mut self, keys: &[&str]) -> Result<Option<String>, Reject> {
        let mut found = None;
        for k in keys {
            let v = self.text(k)?;
            if found.is_none() {
                found = v;
            }
        }
        Ok(found)
    }

    /// A sparse field: absent, unset (`""`/`null`) or set.
    pub fn patch(&mut self, key: &str) -> Result<Patch, Reject> {
        match self.map.get(key) {
            None => Ok(Patch::Absent),
            Some(Value::Null) => {
                self.map.remove(key);
                Ok(Patch::Unset)
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.map.remove(key);
                Ok(Patch::Unset)
            }
            Some(_) => Ok(self.text(key)?.map_or(Patch::Unset, Patch::Set)),
        }
    }

    /// An object field; a CSV cell holding a JSON object is read too.
    pub fn object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, Reject> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) if s.trim_start().starts_with('{') => {
                match serde_json::from_str(&s) {
                    Ok(Value::Object(m)) => Ok(Some(m)),
                    _ => Err(self.wrong(key, "an object", &Value::String(s))),
                }
            }
            Some(other) => Err(self.wrong(key, "an object", &other)),
        }
    }

    /// A list field; a CSV cell holding a JSON array is read too.
    pub fn list(&mut self, key: &str) -> Result<Option<Vec<Value>>, Reject> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) if s.trim_start().starts_with('[') => {
                match serde_json::from_str(&s) {
                    Ok(Value::Array(a)) => Ok(Some(a)),
                    _ => Err(self.wrong(key, "a list", &Value::String(s))),
                }
            }
            Some(other) => Err(self.wrong(key, "a list", &other)),
        }
    }

    /// A list of strings: a JSON array of text, or a text of items separated by `|`, `;` or `,`.
    pub fn words(&mut self, key: &str) -> Result<Option<Vec<String>>, Reject> {
        match self.map.get(key) {
            Some(Value::String(s)) if !s.trim_start().starts_with('[') => {
                let items = s
                    .split(['|', ';', ','])
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect();
                self.map.remove(key);
                Ok(Some(items))
            }
            _ => {
                let Some(items) = self.list(key)? else {
                    return Ok(None);
                };
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s),
                        Value::Number(n) => Ok(n.to_string()),
                        other => Err(self.wrong(key, "a list of text", &other)),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
        }
    }

    /// Moves every field not read yet into `into`.
    pub fn keep_rest_into(self, into: &mut FieldMap) {
        into.extend(self.map);
    }

    /// Moves every field not read yet into the lead's `custom` map (secrets dropped).
    pub fn keep_rest(self, lead: &mut Lead) {
        keep_in_custom(lead, "", self.map);
    }
}

/// Copies fields into `custom` under `prefix`: text as it is, structures as compact JSON.
pub fn keep_in_custom(
    lead: &mut Lead,
    prefix: &str,
    map: impl IntoIterator<Item = (impl AsRef<str>, Value)>,
) {
    let mut kept: Vec<(CompactString, String)> = Vec::new();
    for (k, v) in map {
        let k = k.as_ref();
        if redact::is_secret_key(k) {
            continue;
        }
        let value = match v {
            Value::Null => continue,
            Value::String(s) => s,
            other => other.to_string(),
        };
        let key = if prefix.is_empty() {
            CompactString::from(k)
        } else {
            compact_str::format_compact!("{prefix}{k}")
        };
        kept.push((key, value));
    }
    lead.set_customs(kept);
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
