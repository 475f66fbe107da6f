//! A JSON object's fields as a short list of (name, value) pairs: a record's fields as the
//! adapters read them, and a request body as the payload writers make it.
//!
//! A record has a few dozen fields at most, each looked up and taken out once by an
//! adapter; a body has a dozen, each set once and read by the checks and the diff.
//! serde_json's `Map` (an index map) hashes every key with SipHash on insert, on lookup
//! and again on removal; over a list, comparing the names is cheaper and needs no hash
//! table. The map behaves as serde_json's `Map` with its
//! `preserve_order` feature, which the project uses: insertion order, a repeated key
//! replaces the value where the key first stood, and `remove` moves the last field into
//! the hole (as `Vec::swap_remove`), so the fields an adapter leaves over come in the
//! same order as before. Two maps are equal when they hold the same fields, whatever
//! their order, as two `Map`s are.
//!
//! Names are inline strings (up to 24 bytes without an allocation: every vendor's field
//! names are), so reading a record or setting a body's field allocates for its value
//! only; a million records of 20 to 30 fields made as many million names before. Each
//! name also sets one of 128 bits, picked by its hash: a name whose bit is clear is not
//! in the map, so a new field is added and an absent one (an adapter tries a field's
//! other names) missed without comparing names. Removing leaves the bit set, which only
//! costs a comparison later.

use std::fmt;

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// An object's fields, in the order they were given.
#[derive(Debug, Clone, Default)]
pub struct FieldMap {
    fields: Vec<(CompactString, Value)>,
    /// The bits of the names ever inserted ([`bit`]).
    names: u128,
}

/// The bit that stands for `key` among a map's names.
fn bit(key: &str) -> u128 {
    use std::hash::BuildHasher;
    const PICK: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5eed_f1e1d);
    1u128 << (PICK.hash_one(key) >> 57)
}

impl PartialEq for FieldMap {
    fn eq(&self, other: &FieldMap) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl FieldMap {
    /// No fields.
    pub fn new() -> FieldMap {
        FieldMap::default()
    }

    /// Room for `n` fields.
    pub fn with_capacity(n: usize) -> FieldMap {
        FieldMap {
            fields: Vec::with_capacity(n),
            names: 0,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.find(key, bit(key))
    }

    /// The place of `key`, whose [`bit`] is `b`.
    fn find(&self, key: &str, b: u128) -> Option<usize> {
        if self.names & b == 0 {
            return None;
        }
        self.fields.iter().position(|(k, _)| k == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.fields[i].1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key`: a new key goes last, a known one keeps its place. Returns the value
    /// it replaced.
    pub fn insert(&mut self, key: CompactString, value: Value) -> Option<Value> {
        let b = bit(&key);
        if let Some(i) = self.find(&key, b) {
            return Some(std::mem::replace(&mut self.fields[i].1, value));
        }
        self.names |= b;
        self.fields.push((key, value));
        None
    }

    /// Takes `key` out; the last field moves into its place.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).map(|i| self.fields.swap_remove(i).1)
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The field names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_str())
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The fields, in order, their values changeable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Value)> {
        self.fields.iter_mut().map(|(k, v)| (k.as_str(), v))
    }
}

impl IntoIterator for FieldMap {
    type Item = (CompactString, Value);
    type IntoIter = std::vec::IntoIter<(CompactString, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter()
    }
}

impl<'a> IntoIterator for &'a FieldMap {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactString, Value)>,
        fn(&'a (CompactString, Value)) -> (&'a str, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl std::ops::Index<&str> for FieldMap {
    type Output = Value;

    /// The value of `key`, or null when there is none (as indexing a JSON value gives).
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl<K: Into<CompactString>> Extend<(K, Value)> for FieldMap {
    /// Inserts each field in turn.
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k.into(), v);
        }
    }
}

impl<K: Into<CompactString>> FromIterator<(K, Value)> for FieldMap {
    /// The fields in order; a repeated key keeps its first place and takes the last value.
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> FieldMap {
        let mut map = FieldMap::new();
        map.extend(iter);
        map
    }
}

impl From<FieldMap> for Map<String, Value> {
    fn from(map: FieldMap) -> Map<String, Value> {
        map.fields
            .into_iter()
            .map(|(k, v)| (k.into_string(), v))
            .collect()
    }
}

impl From<FieldMap> for Value {
    /// The fields as a JSON object.
    fn from(map: FieldMap) -> Value {
        Value::Object(map.into())
    }
}

impl Serialize for FieldMap {
    /// As a JSON object, fields in order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k.as_str(), v)?;
        }
        map.end()
    }
}

impl From<Map<String, Value>> for FieldMap {
    /// A JSON object's fields (its keys are distinct already).
    fn from(map: Map<String, Value>) -> FieldMap {
        let mut out = FieldMap::with_capacity(map.len());
        for (k, v) in map {
            out.names |= bit(&k);
            out.fields.push((k.into(), v));
        }
        out
    }
}

impl<'de> Deserialize<'de> for FieldMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldMap, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = FieldMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<FieldMap, A::Error> {
                let mut map = FieldMap::with_capacity(access.size_hint().unwrap_or(16));
                while let Some((k, v)) = access.next_entry::<CompactString, Value>()? {
                    map.insert(k, v);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeated_keys_keep_their_first_place_and_last_value() {
        let m: FieldMap = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        let s: Map<String, Value> = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(m, FieldMap::from(s));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.get("a"), Some(&Value::from(3)));
    }

    #[test]
    fn equal_whatever_the_order_as_json_maps_are() {
        let a: FieldMap = serde_json::from_str(r#"{"a":1,"b":[2]}"#).unwrap();
        let b: FieldMap = serde_json::from_str(r#"{"b":[2],"a":1}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, serde_json::from_str(r#"{"a":1}"#).unwrap());
        assert_ne!(a, serde_json::from_str(r#"{"a":1,"b":[3]}"#).unwrap());
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"b":[2],"a":1}"#);
        assert_eq!(
            Value::from(a.clone()),
            serde_json::json!({"b": [2], "a": 1})
        );
        let collected: FieldMap = [("x".to_string(), Value::from(1)), ("x".into(), 2.into())]
            .into_iter()
            .collect();
        assert_eq!(collected.iter().collect::<Vec<_>>(), [("x", &2.into())]);
    }

    #[test]
    fn not_an_object_is_an_error() {
        assert!(serde_json::from_str::<FieldMap>("[1]").is_err());
        assert!(serde_json::from_str::<FieldMap>("{\"a\":").is_err());
    }

    proptest! {
        /// Any sequence of inserts, removes and lookups leaves the fields, in the order,
        /// that serde_json's `Map` (preserve_order) leaves, and finds what it finds.
        /// Up to 300 names over the map's 128 name bits: names share bits, and a removed
        /// name's bit stays set.
        #[test]
        fn behaves_as_serde_json_map(
            names in 1u16..300,
            ops in proptest::collection::vec((0u8..3, any::<u16>(), 0i32..9), 0..400),
        ) {
            let mut ours = FieldMap::new();
            let mut theirs = Map::new();
            for (op, k, v) in ops {
                let key = format!("k{}", k % names);
                match op {
                    0 => prop_assert_eq!(
                        ours.insert(key.as_str().into(), v.into()),
                        theirs.insert(key, v.into())
                    ),
                    1 => prop_assert_eq!(ours.remove(&key), theirs.remove(&key)),
                    _ => {
                        prop_assert_eq!(ours.get(&key), theirs.get(&key));
                        prop_assert_eq!(ours.contains_key(&key), theirs.contains_key(&key));
                    }
                }
                prop_assert_eq!(ours.len(), theirs.len());
            }
            prop_assert_eq!(
                ours.keys().collect::<Vec<_>>(),
                theirs.keys().map(String::as_str).collect::<Vec<_>>()
            );
            prop_assert_eq!(&ours, &FieldMap::from(theirs.clone()));
            prop_assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap());
            let text = serde_json::to_string(&theirs).unwrap();
            prop_assert_eq!(&serde_json::from_str::<FieldMap>(&text).unwrap(), &ours);
            prop_assert_eq!(Map::from(ours), theirs);
        }
    }
}
