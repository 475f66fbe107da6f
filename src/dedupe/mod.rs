//! Dedupe: leads → contacts. This session's part: the field comparators that score how
//! strongly two leads agree ([`compare`]), with the name-folding and nickname tables they
//! use. Blocking, scoring, clustering and survivorship build on them.

pub mod compare;
pub mod nicknames;
