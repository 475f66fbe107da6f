//! Emails: trimmed, unwrapped (`mailto:`, `<…>`), lower-cased and validated.
//!
//! Syntax is checked by the `email_address` crate (RFC 5321/5322); on top of it the domain
//! must have a dot and a top-level label of letters, as a deliverable address does.

use std::str::FromStr;

use email_address::EmailAddress;

use crate::lead::Email;

/// Splits a field that may hold several addresses (`"a@x.com; b@y.com"`).
pub fn split_field(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([';', ',', ' ', '\n', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Normalizes one address, or `None` when it is not a valid address.
pub fn normalize(raw: &str) -> Option<Email> {
    let mut t = raw.trim();
    for prefix in ["mailto:", "MAILTO:", "Mailto:"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim();
        }
    }
    t = t.trim_start_matches('<').trim_end_matches('>');
    t = t.trim_end_matches(['.', ',', ';']);
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = t.to_lowercase();
    let parsed = EmailAddress::from_str(&lower).ok()?;
    let domain = parsed.domain();
    let tld = domain.rsplit('.').next()?;
    let plausible = domain.contains('.')
        && !domain.starts_with('[')
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_alphabetic());
    plausible.then(|| Email(lower.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(raw: &str) -> Option<String> {
        normalize(raw).map(|e| e.0.into())
    }

    #[test]
    fn cleans_case_space_and_wrappers() {
        assert_eq!(
            n("  John.Doe@Example.COM ").as_deref(),
            Some("john.doe@example.com")
        );
        assert_eq!(n("mailto:ana@sapo.pt").as_deref(), Some("ana@sapo.pt"));
        assert_eq!(n("<ana@sapo.pt>").as_deref(), Some("ana@sapo.pt"));
        assert_eq!(n("JOÃO@SAPO.PT").as_deref(), Some("joão@sapo.pt"));
    }

    #[test]
    fn rejects_invalid() {
        for raw in [
            "",
            "john",
            "john@",
            "@x.com",
            "john@@x.com",
            "john@localhost",
            "a b@x.com",
            "john@x.c0m",
            "john@x.c",
        ] {
            assert_eq!(n(raw), None, "{raw}");
        }
    }

    #[test]
    fn splits() {
        let v: Vec<_> = split_field("a@x.com; b@y.com,c@z.org").collect();
        assert_eq!(v, ["a@x.com", "b@y.com", "c@z.org"]);
    }
}
