//! Property tests of the credit code and the policy language.

use jiesu_domain::enterprise::credit_code::{ALPHABET, compose, parse_credit_code};
use jiesu_domain::enterprise::policy::{Condition, Policy, matches, validate_policy};
use jiesu_domain::enterprise::registry::{
    Enterprise, Industry, Membership, Size, StewardAssignment, Tier,
};
use jiff::civil::date;
use proptest::prelude::*;

fn alphabet_char() -> impl Strategy<Value = char> {
    (0..31usize).prop_map(|i| ALPHABET.as_bytes()[i] as char)
}

/// Synthetic codes: any authority and type, a six-digit division, an organisation body of
/// digits and letters (GB 11714 allows all 26, the 18-character code only the 31).
fn code() -> impl Strategy<Value = String> {
    (
        alphabet_char(),
        alphabet_char(),
        "[0-9]{6}",
        prop::collection::vec(alphabet_char(), 8),
    )
        .prop_filter_map("composes", |(a, t, d, body)| {
            compose(a, t, &d, &body.into_iter().collect::<String>())
        })
}

proptest! {
    #[test]
    fn composed_codes_parse(c in code()) {
        let p = parse_credit_code(&c).unwrap();
        prop_assert!(p.organisation_code_checks());
        prop_assert_eq!(parse_credit_code(&c.to_lowercase()).unwrap(), p);
    }

    #[test]
    fn any_single_substitution_is_refused(c in code(), i in 0..18usize, with in alphabet_char()) {
        let mut chars: Vec<char> = c.chars().collect();
        prop_assume!(chars[i] != with);
        chars[i] = with;
        let m: String = chars.into_iter().collect();
        prop_assert!(parse_credit_code(&m).is_err(), "{} accepted", m);
    }
}

fn leaf() -> impl Strategy<Value = Condition> {
    prop_oneof![
        prop::sample::subsequence(Industry::ALL.to_vec(), 1..4).prop_map(Condition::Industry),
        prop::sample::subsequence(Size::ALL.to_vec(), 1..3).prop_map(Condition::Size),
        prop::sample::subsequence(Tier::ALL.to_vec(), 1..3).prop_map(Condition::Tier),
        prop::sample::subsequence(
            vec!["金融街".to_string(), "月坛".into(), "德胜".into()],
            1..3
        )
        .prop_map(Condition::Street),
        any::<bool>().prop_map(Condition::Member),
        (2010i16..2026).prop_map(|y| Condition::FoundedBefore(date(y, 1, 1))),
        (2010i16..2026).prop_map(|y| Condition::FoundedAfter(date(y, 1, 1))),
        (0u32..200, 0u32..200).prop_map(|(a, b)| Condition::Employees {
            min: Some(a.min(b)),
            max: Some(a.max(b)),
        }),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Condition::Any),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

fn firm() -> impl Strategy<Value = Enterprise> {
    (
        prop::sample::select(Industry::ALL.to_vec()),
        prop::sample::select(Size::ALL.to_vec()),
        prop::sample::select(vec!["金融街", "月坛", "德胜"]),
        prop::option::of(2005i16..2026),
        prop::option::of(0u32..250),
        prop::option::of(prop::sample::select(Tier::ALL.to_vec())),
    )
        .prop_map(
            |(industry, size, street, founded, employees, tier)| Enterprise {
                credit_code: parse_credit_code("91110108551385082Q").unwrap(),
                name: "某公司".into(),
                short_name: None,
                industry,
                size,
                street: street.into(),
                address: "某路 1 号".into(),
                founded: founded.map(|y| date(y, 6, 1)),
                employees,
                memberships: tier
                    .map(|tier| Membership {
                        year: 2026,
                        tier,
                        removed_on: None,
                    })
                    .into_iter()
                    .collect(),
                stewards: vec![StewardAssignment {
                    steward: "gj".into(),
                    from: date(2025, 1, 1),
                    to: None,
                }],
            },
        )
}

fn policy(c: Condition) -> Policy {
    Policy {
        id: "p-1".into(),
        name: "政策".into(),
        department: "区科信局".into(),
        conditions: c,
        deadline: None,
        summary: String::new(),
        url: None,
    }
}

proptest! {
    #[test]
    fn generated_policies_validate_and_combinators_are_boolean(c in condition(), f in firm()) {
        let today = date(2026, 6, 15);
        let p = policy(c.clone());
        prop_assert!(validate_policy(&p).is_ok());
        let m = matches(&p, &f, today).conditions_met;
        // The root's reason is the verdict.
        prop_assert_eq!(matches(&p, &f, today).reasons[0].met, m);
        let not = matches(&policy(Condition::Not(Box::new(c.clone()))), &f, today).conditions_met;
        prop_assert_eq!(not, !m);
        let all1 = matches(&policy(Condition::All(vec![c.clone()])), &f, today).conditions_met;
        prop_assert_eq!(all1, m);
        let excluded = Condition::Any(vec![c.clone(), Condition::Not(Box::new(c))]);
        prop_assert!(matches(&policy(excluded), &f, today).conditions_met);
    }
}
