//! Property tests for the dedupe comparators: symmetric, and a value always agrees exactly
//! with itself.

use leadrecon::dedupe::compare::{
    self, EmailLevel, FirstNameLevel, LastNameLevel, PhoneLevel, PlaceLevel,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn phones_are_symmetric(a in "\\+[1-9][0-9]{6,12}", b in "\\+[1-9][0-9]{6,12}") {
        prop_assert_eq!(compare::phones(&[&a], &[&b]), compare::phones(&[&b], &[&a]));
        prop_assert_eq!(compare::phones(&[&a], &[&a]), PhoneLevel::Exact);
    }

    #[test]
    fn emails_are_symmetric(a in "[a-z.+]{1,8}@[a-z]{1,6}\\.(com|pt|co\\.uk)", b in "[a-z.+]{1,8}@[a-z]{1,6}\\.(com|pt|co\\.uk)") {
        prop_assert_eq!(compare::emails(&[&a], &[&b]), compare::emails(&[&b], &[&a]));
        prop_assert_eq!(compare::emails(&[&a], &[&a]), EmailLevel::Exact);
    }

    #[test]
    fn names_are_symmetric(af in "\\PC{0,8}", al in "\\PC{0,8}", bf in "\\PC{0,8}", bl in "\\PC{0,8}") {
        prop_assert_eq!(compare::names(&af, &al, &bf, &bl), compare::names(&bf, &bl, &af, &al));
        let (f, l) = compare::names(&af, &al, &af, &al);
        let folded_first = compare::fold(&af);
        let folded_last = compare::fold(&al);
        prop_assert_eq!(f, if folded_first.is_empty() { FirstNameLevel::Missing } else { FirstNameLevel::Exact });
        prop_assert_eq!(l, if folded_last.is_empty() { LastNameLevel::Missing } else { LastNameLevel::Exact });
    }

    #[test]
    fn places_are_symmetric(ap in "[A-Z0-9 -]{0,8}", ac in "\\PC{0,6}", bp in "[A-Z0-9 -]{0,8}", bc in "\\PC{0,6}") {
        prop_assert_eq!(compare::place(&ap, &ac, &bp, &bc), compare::place(&bp, &bc, &ap, &ac));
        let same = compare::place(&ap, &ac, &ap, &ac);
        prop_assert!(matches!(same, PlaceLevel::SamePostcode | PlaceLevel::SameCity | PlaceLevel::Missing), "{:?}", same);
    }
}
