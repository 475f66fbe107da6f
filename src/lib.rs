//! leadrecon reconciles real-estate leads across lead systems.
//!
//! ```text
//! pipeline file ─► extract  (files → records: CSV, JSON, JSONL, envelopes, .gz)
//!               ─► vendors  (records → Leads: one adapter per system, enums mapped, agents)
//!               ─► normalize(E.164 phones, clean emails, repaired names, UTC times)
//!               ─► fold     (records of one lead → one lead)
//!               ─► load     (leads.parquet, leads.csv, rejects.csv, manifest.json)
//! ```
//!
//! [`pipeline::run::run`] is the only place that knows this order; [`lead::Lead`] is the
//! only thing stages pass between them.

/// A closed vocabulary: an enum with its output names (`as_str`, `Display`, serde in
/// snake_case), every value in order (`ALL`), their names in order (`NAMES`) and each
/// value's position (`index`). Used for
/// our lead vocabularies and for the dedupe comparison levels.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every value's output name, in declaration order (`NAMES[v.index()]` is
            /// `v.as_str()`).
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The name written to outputs.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Position in [`Self::ALL`].
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod agents;
pub mod allocator;
pub mod cli;
pub mod dedupe;
pub mod explain;
pub mod extract;
pub mod field_map;
pub mod fold;
pub mod hex;
pub mod json;
pub mod lead;
pub mod load;
pub mod memo;
pub mod merge;
pub mod normalize;
pub mod packed;
pub mod pipeline;
pub mod prefetch;
pub mod progress;
pub mod redact;
pub mod reject;
pub mod shard;
pub mod state;
pub mod synth;
pub mod vendors;

/// Exit codes, as documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run finished.
    Ok = 0,
    /// A fatal error: an input, the roster or the output cannot be read or written.
    Fatal = 1,
    /// Bad command-line usage.
    Usage = 2,
    /// The run finished but rejected more records than `max_reject_ratio` allows.
    RejectRatio = 3,
    /// The pipeline file (or the roster, or how inputs fit it) is invalid.
    InvalidPipeline = 4,
    /// The run finished, `--fail-on-review` is set and pairs wait for review.
    Review = 5,
}
