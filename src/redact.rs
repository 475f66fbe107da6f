//! Keeps secrets out of outputs, logs and error messages.
//!
//! Inputs carry API keys, tokens and login links now and then (a `site_login_url`, an
//! `api_key` in a dumped URL, a bearer token in a captured response). Field names that look
//! secret are dropped from `custom`, and text that reaches a reject or a message passes
//! through [`text`].

use std::sync::LazyLock;

use regex::Regex;

use crate::memo::Memo;

/// Whether a field with this name holds a credential and must never be copied.
///
/// Asked for every leftover field of every record, and records of one export repeat the
/// same few dozen names: the answers are remembered (at most about [`NAMES_KEPT`]).
pub fn is_secret_key(name: &str) -> bool {
    static SEEN: std::sync::OnceLock<Memo<String, bool>> = std::sync::OnceLock::new();
    SEEN.get_or_init(|| Memo::new(NAMES_KEPT))
        .get_or_borrowed(name, || names_a_secret(name))
}

/// How many field names [`is_secret_key`]'s answers are remembered for.
const NAMES_KEPT: usize = 4096;

fn names_a_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', ' '], "_");
    const PARTS: [&str; 12] = [
        "api_key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "signature",
        "private_key",
        "login_url",
        "session",
        "credential",
    ];
    PARTS.iter().any(|p| n.contains(p)) || matches!(n.as_str(), "access" | "refresh" | "auth")
}

static SECRET_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:api[_-]?key|apikey|[a-z_]*token|secret|password|passwd|signature|authorization|access|refresh)"?\s*[:=]\s*"?)([^"&\s,}]+)"#,
    )
    .expect("valid regex")
});
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+").expect("valid regex")
});
static LOGIN_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)("?site_login_url"?\s*[:=]\s*"?)([^"\s,}]+)"#).expect("valid regex")
});

/// `s` with credentials replaced by `[redacted]`: `key: value` / `key=value` pairs whose
/// key looks secret, bearer and basic authorization values, and login links.
pub fn text(s: &str) -> String {
    if !s.bytes().any(|b| b == b':' || b == b'=' || b == b' ') {
        return s.to_string();
    }
    let s = BEARER.replace_all(s, "${1} [redacted]");
    let s = LOGIN_URL.replace_all(&s, "${1}[redacted]");
    SECRET_ASSIGNMENT
        .replace_all(&s, |c: &regex::Captures<'_>| {
            if c[2].starts_with("[redacted]")
                || c[2].eq_ignore_ascii_case("bearer")
                || c[2].eq_ignore_ascii_case("basic")
            {
                c[0].to_string()
            } else {
                format!("{}[redacted]", &c[1])
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for k in [
            "api_key",
            "X-API-KEY",
            "access_token",
            "site_login_url",
            "refresh",
            "apikey",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["email", "lead_id", "source", "tags", "accessibility"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    /// The remembered answers are the computed ones, asked again, and after the memory
    /// was emptied by more names than it keeps.
    #[test]
    fn remembered_answers_stay_right() {
        let names: Vec<String> = (0..NAMES_KEPT + 10)
            .map(|i| match i % 3 {
                0 => format!("field_{i}"),
                1 => format!("x_{i}_token"),
                _ => format!("Private-Key {i}"),
            })
            .collect();
        for _ in 0..2 {
            for name in &names {
                assert_eq!(is_secret_key(name), names_a_secret(name), "{name}");
                assert_eq!(is_secret_key(name), !name.starts_with("field_"), "{name}");
            }
        }
    }

    #[test]
    fn redacts_assignments_urls_and_bearer() {
        let s = r#"{"api_key": "abc123", "email": "a@b.c", "site_login_url": "http://x/member/quick_login/99/"}"#;
        let r = text(s);
        assert!(!r.contains("abc123") && !r.contains("quick_login"), "{r}");
        assert!(r.contains("a@b.c"));
        let url = text(
            "https://account.peakidxsites.com/lead-api/new-leads?idx_site_id=4&api_key=s3cr3t",
        );
        assert!(!url.contains("s3cr3t"), "{url}");
        assert!(url.contains("idx_site_id=4"));
        let hdr = text("Authorization: Bearer eyJhbGciOi.xyz");
        assert!(!hdr.contains("eyJhbGciOi"), "{hdr}");
    }
}
