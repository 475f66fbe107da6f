//! JSON text written into room reserved up front.

use serde::Serialize;

/// `value` as compact JSON (what `serde_json::to_string` gives), written into room for
/// `capacity` bytes. `to_string` starts at 128 bytes and doubles, copying the text
/// each time: a payload line of 600 bytes is three allocations and copies, and a run
/// of a million leads writes millions of lines, extra fields and provenances.
pub fn to_string_with_capacity<T: Serialize + ?Sized>(
    value: &T,
    capacity: usize,
) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut out, value)?;
    // serde_json writes UTF-8 only (it escapes nothing into invalid bytes).
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_to_string_s_whatever_the_room() {
        let value = serde_json::json!({"a": "é\"\n\u{1}", "b": [1, 2.5, null, true], "c": {}});
        let want = serde_json::to_string(&value).unwrap();
        for capacity in [0, 1, 16, want.len(), 4096] {
            assert_eq!(to_string_with_capacity(&value, capacity).unwrap(), want);
        }
    }
}
