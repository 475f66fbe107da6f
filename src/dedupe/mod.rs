//! Dedupe: leads → contacts.
//!
//! [`MatchRecord`] is the part of a lead matching looks at (folded names, emails, phones,
//! place, agent); [`block`] finds candidate pairs without comparing all pairs;
//! [`compare`] grades each field of a pair; [`score`] turns grades into Fellegi-Sunter
//! match weights with m/u probabilities estimated from the data (EM); [`cluster`] joins
//! matches into contacts with a guard against chaining. Wiring into the run, golden
//! records and the `explain` command come next (issue 3).

pub mod block;
pub mod cluster;
pub mod compare;
pub mod nicknames;
pub mod score;
pub mod survive;

use serde::Deserialize;

use crate::lead::{Lead, PhoneKind};

/// Which leads may become one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only leads of the same agent (Maxwork's rule: same phone or email for the same
    /// agent is one contact).
    #[default]
    Agent,
    /// One contact per person across agents.
    Global,
}

/// What matching reads of a lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchRecord {
    /// Agent id ("" when none).
    pub agent: String,
    /// First name, folded.
    pub first: String,
    /// Last name, folded.
    pub last: String,
    /// Emails (normalized), up to two.
    pub emails: Vec<String>,
    /// Phones (E.164), up to two.
    pub phones: Vec<String>,
    /// Whether the primary phone can be a mobile (mobile or fixed-or-mobile).
    pub mobile: bool,
    /// Postcode as written.
    pub postcode: String,
    /// City as written.
    pub city: String,
}

impl MatchRecord {
    /// The match view of a lead.
    pub fn of(lead: &Lead) -> MatchRecord {
        MatchRecord {
            agent: lead.agent_id.clone().unwrap_or_default(),
            first: compare::fold(lead.first_name.as_deref().unwrap_or("")),
            last: compare::fold(lead.last_name.as_deref().unwrap_or("")),
            emails: [&lead.email, &lead.email2]
                .into_iter()
                .flatten()
                .map(|e| e.as_str().to_string())
                .collect(),
            phones: [&lead.phone, &lead.phone2]
                .into_iter()
                .flatten()
                .map(|p| p.as_str().to_string())
                .collect(),
            mobile: matches!(
                lead.phone_kind,
                PhoneKind::Mobile | PhoneKind::FixedOrMobile
            ),
            postcode: lead.postcode.clone().unwrap_or_default(),
            city: lead.city.clone().unwrap_or_default(),
        }
    }
}

/// The field levels of one candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Levels {
    /// Phones.
    pub phone: compare::PhoneLevel,
    /// Emails.
    pub email: compare::EmailLevel,
    /// First names.
    pub first: compare::FirstNameLevel,
    /// Last names.
    pub last: compare::LastNameLevel,
    /// Place.
    pub place: compare::PlaceLevel,
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl Levels {
    /// Compares two records field by field.
    pub fn of(a: &MatchRecord, b: &MatchRecord) -> Levels {
        let (first, last) = compare::names(&a.first, &a.last, &b.first, &b.last);
        Levels {
            phone: compare::phones(&strs(&a.phones), &strs(&b.phones)),
            email: compare::emails(&strs(&a.emails), &strs(&b.emails)),
            first,
            last,
            place: compare::place(&a.postcode, &a.city, &b.postcode, &b.city),
        }
    }

    /// Level indices in comparator order (phone, email, first, last, place).
    pub fn indices(&self) -> [usize; 5] {
        [
            self.phone.index(),
            self.email.index(),
            self.first.index(),
            self.last.index(),
            self.place.index(),
        ]
    }
}
