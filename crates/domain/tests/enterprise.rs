//! 企事通's pure rules through their public functions: the credit code, the registry, anonymous
//! dispatch and policy matching.

use jiesu_domain::DomainError;
use jiesu_domain::Role;
use jiesu_domain::enterprise::anonymity::{
    FirmLink, FirmView, MASKED_LABEL, Peers, RevealGround, Viewer, firm_view, may_see_caller,
    redact,
};
use jiesu_domain::enterprise::credit_code::{
    ALPHABET, check_character, compose, normalize, organisation_check_character, parse_credit_code,
    parse_credit_code_at, with_check_character,
};
use jiesu_domain::enterprise::policy::{matches, parse_policy, steward_matches, validate_policy};
use jiesu_domain::enterprise::registry::{
    Contact, Enterprise, EnterpriseInput, Industry, Membership, Size, StewardAssignment, Tier,
    reassign_steward, refresh_diff, validate_enterprise,
};
use jiff::civil::{Date, date};

/// Codes as printed on business licences; the algorithm confirms every check character (both
/// the 18th and the GB 11714 one inside).
const PUBLISHED: &[&str] = &[
    "914403001922038216",
    "91440300708461136T",
    "91110108551385082Q",
    "911100001000044477",
    "91110000802100433B",
    "12440600MB2C07549J",
];

fn field_code(e: DomainError) -> (String, &'static str) {
    match e {
        DomainError::Invalid { field, code, .. } => (field, code),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn published_codes_are_valid_and_decompose() {
    for raw in PUBLISHED {
        let c = parse_credit_code(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(c.as_str(), *raw);
        assert!(c.organisation_code_checks(), "{raw}");
    }
    let c = parse_credit_code("914403001922038216").unwrap();
    assert_eq!(c.registration_authority(), '9');
    assert_eq!(c.organisation_type(), '1');
    assert_eq!(c.division(), "440300");
    assert_eq!(c.organisation_code(), "192203821");
    assert!(c.is_market_registered());
}

#[test]
fn check_character_by_hand() {
    // 91440300708461136T: values 9,1,4,4,0,3,0,0,7,0,8,4,6,1,1,3,6 times the weights
    // 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 give
    // 9+3+36+108+0+78+0+0+140+0+200+52+48+24+10+90+168 = 966; 966 mod 31 = 5 (31·31 = 961);
    // 31 − 5 = 26, and the alphabet's 26th value (from 0) is T.
    assert_eq!(check_character("91440300708461136"), Some('T'));
    // A sum ≡ 0 gives 31 − 0 = 31, written 0: seventeen zeros.
    assert_eq!(check_character("00000000000000000"), Some('0'));
    assert_eq!(
        with_check_character("91440300708461136").as_deref(),
        Some("91440300708461136T")
    );
    assert_eq!(check_character("9144030070846113"), None, "16 characters");
    assert_eq!(
        check_character("9144030070846113I"),
        None,
        "I is not in the alphabet"
    );
    // GB 11714 for 19220382: 1·3+9·7+2·9+2·10+0·5+3·8+8·4+2·2 = 164; 164 mod 11 = 10;
    // 11 − 10 = 1.
    assert_eq!(organisation_check_character("19220382"), Some('1'));
}

#[test]
fn normalises_case_width_and_spaces() {
    assert_eq!(normalize(" 9144 0300 7084 6113 6t "), "91440300708461136T");
    // Full-width digits and letters from a Chinese IME, and an ideographic space.
    assert_eq!(
        parse_credit_code("９１４４０３００７０８４６１１３６Ｔ\u{3000}")
            .unwrap()
            .as_str(),
        "91440300708461136T"
    );
}

#[test]
fn wrong_length_is_refused_naming_the_field() {
    let (f, c) = field_code(parse_credit_code("9144030070846113").unwrap_err());
    assert_eq!((f.as_str(), c), ("credit_code", "bad_credit_code_length"));
    let (_, c) = field_code(parse_credit_code("91440300708461136TT").unwrap_err());
    assert_eq!(c, "bad_credit_code_length");
    let (_, c) = field_code(parse_credit_code("   ").unwrap_err());
    assert_eq!(c, "empty");
}

#[test]
fn bad_character_is_refused_naming_the_field() {
    for bad in ["I", "O", "S", "V", "Z", "-", "中"] {
        let raw = format!("9144030070846113{bad}T");
        let (f, c) = field_code(parse_credit_code(&raw).unwrap_err());
        assert_eq!(
            (f.as_str(), c),
            ("credit_code", "bad_credit_code_char"),
            "{raw}"
        );
    }
    // A letter in the division code (positions 3–8), even with a correct check character.
    let code = with_check_character("91A40300708461136").unwrap();
    let (_, c) = field_code(parse_credit_code(&code).unwrap_err());
    assert_eq!(c, "bad_credit_code_char");
    let (f, _) =
        field_code(parse_credit_code_at("firms[3].credit_code", "91440300708461136O").unwrap_err());
    assert_eq!(f, "firms[3].credit_code");
}

#[test]
fn bad_check_is_refused_naming_the_field() {
    let (f, c) = field_code(parse_credit_code("91440300708461136U").unwrap_err());
    assert_eq!((f.as_str(), c), ("credit_code", "bad_credit_code_check"));
    // A real pre-2016 code whose 18th character does not check: refused, as the standard says.
    let (_, c) = field_code(parse_credit_code("91350203M0001QKT19").unwrap_err());
    assert_eq!(c, "bad_credit_code_check");
}

#[test]
fn every_single_character_change_is_caught() {
    for raw in PUBLISHED {
        let orig: Vec<char> = raw.chars().collect();
        for i in 0..18 {
            for c in ALPHABET.chars().filter(|c| *c != orig[i]) {
                let mut m = orig.clone();
                m[i] = c;
                let m: String = m.into_iter().collect();
                let err = parse_credit_code(&m).expect_err(&m);
                let (_, code) = field_code(err);
                assert!(
                    code == "bad_credit_code_check" || code == "bad_credit_code_char",
                    "{m}: {code}"
                );
            }
        }
    }
}

#[test]
fn every_adjacent_transposition_of_the_body_is_caught() {
    // Weights differ at neighbours and 31 is prime, so swapping two different characters
    // among the first 17 always changes the sum mod 31.
    for raw in PUBLISHED {
        let orig: Vec<char> = raw.chars().collect();
        for i in 0..16 {
            if orig[i] == orig[i + 1] {
                continue;
            }
            let mut m = orig.clone();
            m.swap(i, i + 1);
            let m: String = m.into_iter().collect();
            assert!(parse_credit_code(&m).is_err(), "{m}");
        }
    }
}

#[test]
fn composed_synthetic_codes_check_both_ways() {
    let code = compose('9', '1', "110102", "MA01AB2C").unwrap();
    let c = parse_credit_code(&code).unwrap();
    assert_eq!(c.division(), "110102");
    assert!(c.organisation_code_checks());
    assert_eq!(compose('9', '1', "11010X", "MA01AB2C"), None);
    assert_eq!(compose('9', '1', "110102", "MA01AB2"), None);
}

#[test]
fn credit_code_serde_validates() {
    let c: jiesu_domain::enterprise::CreditCode =
        serde_json::from_str("\"91440300708461136t\"").unwrap();
    assert_eq!(serde_json::to_string(&c).unwrap(), "\"91440300708461136T\"");
    assert!(
        serde_json::from_str::<jiesu_domain::enterprise::CreditCode>("\"91440300708461136U\"")
            .is_err()
    );
}

// --- registry

fn today() -> Date {
    date(2026, 6, 15)
}

fn input() -> EnterpriseInput {
    EnterpriseInput {
        credit_code: "91110108551385082Q".into(),
        name: "北京某某科技有限公司".into(),
        short_name: Some("某某科技".into()),
        industry: Industry::Information,
        size: Size::Small,
        street: "金融街".into(),
        address: "金融大街 1 号".into(),
        founded: Some(date(2019, 3, 1)),
        employees: Some(80),
        memberships: vec![
            Membership {
                year: 2025,
                tier: Tier::Street,
                removed_on: None,
            },
            Membership {
                year: 2026,
                tier: Tier::District,
                removed_on: None,
            },
        ],
        stewards: vec![StewardAssignment {
            steward: "gj_li".into(),
            from: date(2025, 1, 1),
            to: None,
        }],
        contacts: vec![Contact {
            name: "王小明".into(),
            position: "行政主管".into(),
            phone: "138 1234 5678".into(),
            primary: true,
        }],
    }
}

fn firm() -> Enterprise {
    validate_enterprise(&input(), today()).unwrap().enterprise
}

#[test]
fn registration_validates_and_seals_contacts_apart() {
    let r = validate_enterprise(&input(), today()).unwrap();
    assert_eq!(r.contacts[0].phone, "13812345678");
    assert_eq!(r.contacts[0].masked(), "王**（行政主管）138****5678");
    // The record itself carries no contact: it serialises without names or phones.
    let json = serde_json::to_string(&r.enterprise).unwrap();
    assert!(!json.contains("1381234") && !json.contains("王小明"));
}

#[test]
fn registration_errors_name_their_fields() {
    let bad = |f: &dyn Fn(&mut EnterpriseInput)| {
        let mut e = input();
        f(&mut e);
        field_code(validate_enterprise(&e, today()).unwrap_err())
    };
    assert_eq!(
        bad(&|e| e.credit_code = "91110108551385082R".into()),
        ("credit_code".into(), "bad_credit_code_check")
    );
    assert_eq!(bad(&|e| e.name = " ".into()), ("name".into(), "empty"));
    assert_eq!(
        bad(&|e| e.founded = Some(date(2027, 1, 1))),
        ("founded".into(), "date_in_future")
    );
    assert_eq!(
        bad(&|e| e.contacts[0].phone = "12345".into()),
        ("contacts[0].phone".into(), "bad_phone")
    );
    assert_eq!(
        bad(&|e| e.memberships[1].year = 2025),
        ("memberships[1].year".into(), "duplicate")
    );
    assert_eq!(
        bad(&|e| e.memberships[0].removed_on = Some(date(2026, 2, 1))),
        ("memberships[0].removed_on".into(), "date_out_of_range")
    );
    assert_eq!(
        bad(&|e| e.stewards.push(StewardAssignment {
            steward: "gj_wang".into(),
            from: date(2026, 1, 1),
            to: None,
        })),
        ("stewards[1].from".into(), "steward_overlap")
    );
}

#[test]
fn industries_are_the_gb_t_4754_sections() {
    assert_eq!(Industry::ALL.len(), 20);
    assert_eq!(Industry::Agriculture.section(), 'A');
    assert_eq!(Industry::Information.section(), 'I');
    assert_eq!(Industry::Finance.section(), 'J');
    assert_eq!(Industry::International.section(), 'T');
    assert_eq!("金融业".parse::<Industry>(), Ok(Industry::Finance));
    assert_eq!("微型".parse::<Size>(), Ok(Size::Micro));
}

#[test]
fn membership_holds_for_its_year_only() {
    let mut f = firm();
    assert_eq!(
        f.membership_on(date(2025, 12, 31)).unwrap().tier,
        Tier::Street
    );
    assert_eq!(
        f.membership_on(date(2026, 1, 1)).unwrap().tier,
        Tier::District
    );
    // Not renewed for 2027: lapses with the year, no action needed.
    assert!(!f.is_member(date(2027, 1, 1)));
    f.memberships[1].removed_on = Some(date(2026, 7, 1));
    assert!(f.is_member(date(2026, 6, 30)));
    assert!(!f.is_member(date(2026, 7, 1)));
}

#[test]
fn steward_reassignment_closes_the_old_period() {
    let f = firm();
    assert_eq!(f.steward_on(today()), Some("gj_li"));
    let next = reassign_steward(&f.stewards, "gj_wang", date(2026, 7, 1)).unwrap();
    assert_eq!(next[0].to, Some(date(2026, 7, 1)));
    let g = Enterprise {
        stewards: next.clone(),
        ..f.clone()
    };
    assert_eq!(g.steward_on(date(2026, 6, 30)), Some("gj_li"));
    assert_eq!(g.steward_on(date(2026, 7, 1)), Some("gj_wang"));
    assert!(jiesu_domain::enterprise::registry::validate_stewards(&next).is_ok());
    assert_eq!(
        reassign_steward(&next, "gj_wang", date(2026, 8, 1))
            .unwrap_err()
            .code(),
        "same_steward"
    );
}

#[test]
fn refresh_diff_lists_joined_left_and_retiered() {
    let a = parse_credit_code("914403001922038216").unwrap();
    let b = parse_credit_code("91440300708461136T").unwrap();
    let c = parse_credit_code("91110108551385082Q").unwrap();
    let d = refresh_diff(
        &[(a.clone(), Tier::City), (b.clone(), Tier::District)],
        &[(b.clone(), Tier::City), (c.clone(), Tier::Street)],
    );
    assert_eq!(d.joined, vec![(c, Tier::Street)]);
    assert_eq!(d.left, vec![a]);
    assert_eq!(d.retiered, vec![(b, Tier::District, Tier::City)]);
    assert_eq!(d.kept, 0);
}

// --- anonymity

fn link(anonymous: bool) -> FirmLink {
    FirmLink {
        request_id: 42,
        credit_code: firm().credit_code,
        anonymous,
    }
}

fn viewer(username: &'static str, role: Role, unit: Option<&'static str>) -> Viewer<'static> {
    Viewer {
        username,
        role,
        unit,
        steward_of_firm: false,
        staff_of_firm: false,
    }
}

#[test]
fn anonymity_matrix() {
    let f = firm();
    let peers = Peers::default();
    let handler = viewer("cb_zhang", Role::Handler, Some("区市场监管局"));
    let dispatcher = viewer("pd_liu", Role::Dispatcher, None);
    let steward = Viewer {
        steward_of_firm: true,
        ..viewer("gj_li", Role::Handler, Some("区投资促进局"))
    };
    let other_steward = viewer("gj_wang", Role::Handler, Some("区投资促进局"));
    let staff = Viewer {
        staff_of_firm: true,
        ..viewer("firm_x", Role::Citizen, None)
    };
    let supervisor = viewer("kp_zhou", Role::Supervisor, None);
    let operator = viewer("hw_sun", Role::Operator, None);
    let system = viewer("system", Role::System, None);

    let anon = link(true);
    let v = |w: &Viewer| firm_view(w, &anon, &f, peers);
    assert!(matches!(v(&handler), FirmView::Masked(ref m) if m.label == MASKED_LABEL));
    assert!(!v(&other_steward).is_full());
    assert!(!v(&supervisor).is_full());
    assert!(!v(&operator).is_full());
    assert!(!v(&system).is_full());
    match v(&steward) {
        FirmView::Full { reveal: Some(r) } => {
            assert_eq!((r.request_id, r.viewer.as_str()), (42, "gj_li"));
            assert_eq!(r.ground, RevealGround::Steward);
        }
        other => panic!("steward: {other:?}"),
    }
    match v(&dispatcher) {
        FirmView::Full { reveal: Some(r) } => assert_eq!(r.ground, RevealGround::Dispatcher),
        other => panic!("dispatcher: {other:?}"),
    }
    // The firm's own account sees its own name: no reveal to audit.
    assert_eq!(v(&staff), FirmView::Full { reveal: None });

    // Not anonymous: everyone who may see the request sees the firm, nothing to audit.
    let open = link(false);
    for w in [&handler, &other_steward, &supervisor, &dispatcher, &steward] {
        assert_eq!(
            firm_view(w, &open, &f, peers),
            FirmView::Full { reveal: None }
        );
    }

    // The caller goes with the firm: the handler may not call the firm back.
    assert!(!may_see_caller(&handler, &anon));
    assert!(may_see_caller(&handler, &open));
    assert!(may_see_caller(&dispatcher, &anon));
    assert!(may_see_caller(&steward, &anon));
}

#[test]
fn masked_label_names_industry_and_street_only_among_enough_peers() {
    let f = firm();
    let h = viewer("cb_zhang", Role::Handler, Some("区市场监管局"));
    let label = |industry, industry_street| match firm_view(
        &h,
        &link(true),
        &f,
        Peers {
            industry,
            industry_street,
        },
    ) {
        FirmView::Masked(m) => m.label,
        other => panic!("{other:?}"),
    };
    assert_eq!(label(9, 9), "某企业");
    assert_eq!(label(10, 9), "某信息传输、软件和信息技术服务业企业");
    assert_eq!(
        label(120, 10),
        "某信息传输、软件和信息技术服务业企业（金融街）"
    );
}

#[test]
fn redact_removes_name_short_name_and_code() {
    let f = firm();
    let t = "我是北京某某科技有限公司的，某某科技的代码 91110108551385082q，请处理。";
    let r = redact(t, &f);
    assert_eq!(r, "我是某企业的，某企业的代码 某企业，请处理。");
}

// --- policy

const POLICY: &str = r#"{
  "id": "xc-2026-kj-01",
  "name": "科技型中小企业房租补贴",
  "department": "区科信局",
  "deadline": "2026-09-30",
  "conditions": {"all": [
    {"industry": ["information", "科学研究和技术服务业"]},
    {"any": [{"size": ["small", "micro"]}, {"tier": ["city"]}]},
    {"not": {"street": ["月坛"]}},
    {"founded_after": "2016-01-01"},
    {"employees": {"max": 300}},
    {"member": true}
  ]}
}"#;

#[test]
fn policy_matching_with_all_any_not_and_reasons() {
    let p = parse_policy(POLICY).unwrap();
    assert!(validate_policy(&p).is_ok());
    let f = firm();
    let m = matches(&p, &f, today());
    assert!(m.eligible, "{m:#?}");
    // Pre-order: the root, its six parts, the any's two parts after it, the not's part.
    let paths: Vec<&str> = m.reasons.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "conditions",
            "conditions.all[0]",
            "conditions.all[1]",
            "conditions.all[1].any[0]",
            "conditions.all[1].any[1]",
            "conditions.all[2]",
            "conditions.all[2].not",
            "conditions.all[3]",
            "conditions.all[4]",
            "conditions.all[5]",
        ]
    );
    assert_eq!(m.reasons[3].text, "规模：小型（要求：小型、微型）");
    assert!(
        m.reasons[3].met && !m.reasons[4].met,
        "any: one of two is enough"
    );
    assert!(
        m.reasons[5].met && !m.reasons[6].met,
        "not: 金融街 is not 月坛"
    );

    // In 月坛: the not fails, so the all fails, and the reasons say which.
    let g = Enterprise {
        street: "月坛".into(),
        ..f.clone()
    };
    let m = matches(&p, &g, today());
    assert!(!m.eligible && !m.conditions_met);
    assert!(!m.reasons[5].met && m.reasons[6].met);
    assert_eq!(m.reasons[0].text, "全部满足（5/6 项满足）");

    // A large firm passes the any only through a city-level package.
    let mut big = Enterprise {
        size: Size::Large,
        ..f.clone()
    };
    assert!(!matches(&p, &big, today()).eligible);
    big.memberships[1].tier = Tier::City;
    assert!(matches(&p, &big, today()).eligible);

    // Unknown head count: the range condition is not met.
    let unknown = Enterprise {
        employees: None,
        ..f.clone()
    };
    let m = matches(&p, &unknown, today());
    assert!(!m.eligible);
    assert_eq!(m.reasons[8].text, "从业人数：未登记（要求：不超过 300 人）");

    // Past the deadline: conditions still met, not eligible.
    let m = matches(&p, &f, date(2026, 10, 1));
    assert!(m.conditions_met && m.expired && !m.eligible);
    // Next year the 2026 membership has lapsed.
    assert!(!matches(&p, &f, date(2027, 1, 5)).conditions_met);
}

#[test]
fn policy_document_errors_name_the_path() {
    let err = |doc: &str| field_code(parse_policy(doc).unwrap_err());
    let with =
        |cond: &str| format!(r#"{{"id":"p-1","name":"n","department":"d","conditions":{cond}}}"#);
    assert_eq!(
        err(&with(r#"{"all":[{"size":["small"]},{"colour":["red"]}]}"#)),
        ("conditions.all[1].colour".into(), "unknown_field")
    );
    assert_eq!(
        err(&with(r#"{"any":[{"not":{"size":["small","huge"]}}]}"#)),
        ("conditions.any[0].not.size[1]".into(), "unknown_value")
    );
    assert_eq!(
        err(&with(r#"{"employees":{"min":50,"max":10}}"#)),
        ("conditions.employees.max".into(), "out_of_range")
    );
    assert_eq!(
        err(&with(r#"{"industry":[]}"#)),
        ("conditions.industry".into(), "empty")
    );
    assert_eq!(
        err(&with(r#"{"size":["small"],"tier":["city"]}"#)),
        ("conditions".into(), "invalid")
    );
    assert_eq!(
        err(&with(r#"{"founded_before":"2020-13-01"}"#)),
        ("conditions.founded_before".into(), "invalid")
    );
    assert_eq!(
        err(r#"{"id":"p-1","name":"n","department":"d","conditions":{"member":true},"owner":"x"}"#),
        ("owner".into(), "unknown_field")
    );
    assert_eq!(
        err(r#"{"id":"p-1","name":"n","conditions":{"member":true}}"#),
        ("department".into(), "required")
    );
    assert_eq!(
        err(r#"{"id":"p 1","name":"n","department":"d","conditions":{"member":true}}"#),
        ("id".into(), "bad_code")
    );
    let deep = (0..9).fold(r#"{"member":true}"#.to_string(), |acc, _| {
        format!(r#"{{"not":{acc}}}"#)
    });
    assert_eq!(err(&with(&deep)).1, "too_deep");
}

#[test]
fn steward_sees_matches_for_their_firms_only() {
    let p = parse_policy(POLICY).unwrap();
    let mine = firm();
    let theirs = Enterprise {
        credit_code: parse_credit_code("91440300708461136T").unwrap(),
        stewards: vec![StewardAssignment {
            steward: "gj_wang".into(),
            from: date(2025, 1, 1),
            to: None,
        }],
        ..mine.clone()
    };
    let got = steward_matches(&[p], &[mine, theirs], "gj_li", today());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].credit_code, "91110108551385082Q");
}

// --- KPIs

#[test]
fn kpis_attribute_requests_by_the_day_received() {
    use jiesu_domain::enterprise::kpi::{
        EnterpriseRequest, by_steward, by_tier, repeated_unresolved,
    };
    let mut f = firm();
    f.stewards = reassign_steward(&f.stewards, "gj_wang", date(2026, 6, 1)).unwrap();
    let other = Enterprise {
        credit_code: parse_credit_code("91440300708461136T").unwrap(),
        stewards: vec![],
        memberships: vec![],
        ..f.clone()
    };
    let req = |id, code: &Enterprise, on, resolved| EnterpriseRequest {
        request_id: id,
        credit_code: code.credit_code.clone(),
        received_on: on,
        resolved,
    };
    let reqs = [
        req(1, &f, date(2025, 11, 3), Some(false)),
        req(2, &f, date(2026, 5, 20), Some(false)),
        req(3, &f, date(2026, 6, 2), Some(true)),
        req(4, &other, date(2026, 6, 2), Some(false)),
        req(5, &f, date(2026, 6, 9), Some(false)),
        req(6, &f, date(2026, 6, 10), None),
    ];
    let firms = [f.clone(), other.clone()];
    let s = by_steward(&reqs, &firms);
    assert_eq!(s[&Some("gj_li".to_string())], [1, 2]);
    assert_eq!(s[&Some("gj_wang".to_string())], [3, 5, 6]);
    assert_eq!(s[&None], [4]);
    let t = by_tier(&reqs, &firms);
    assert_eq!(t[&Some(Tier::Street)], [1]);
    assert_eq!(t[&Some(Tier::District)], [2, 3, 5, 6]);
    assert_eq!(t[&None], [4]);
    // 2026: the firm has two unresolved (2, 5), the other one (4).
    let rep = repeated_unresolved(&reqs, date(2026, 1, 1), date(2026, 12, 31), 2);
    assert_eq!(rep.len(), 1);
    assert_eq!(rep[0].credit_code, f.credit_code);
    assert_eq!(rep[0].unresolved, [2, 5]);
    let rep = repeated_unresolved(&reqs, date(2025, 1, 1), date(2026, 12, 31), 1);
    assert_eq!(
        rep.iter().map(|r| r.unresolved.len()).collect::<Vec<_>>(),
        [3, 1]
    );
}

#[test]
fn anonymous_dispatch_to_the_stewards_own_unit_is_flagged() {
    use jiesu_domain::enterprise::anonymity::steward_in_unit;
    assert!(steward_in_unit(
        &link(true),
        Some("区投资促进局"),
        "区投资促进局"
    ));
    assert!(!steward_in_unit(
        &link(true),
        Some("区投资促进局"),
        "区市场监管局"
    ));
    assert!(!steward_in_unit(
        &link(false),
        Some("区投资促进局"),
        "区投资促进局"
    ));
    assert!(!steward_in_unit(&link(true), None, "区投资促进局"));
}

#[test]
fn viewer_of_an_actor_knows_steward_and_staff() {
    use jiesu_domain::Actor;
    let f = firm();
    let actor = |username: &str, role| Actor {
        user_id: Some(1),
        username: username.into(),
        role,
        unit: Some("区投资促进局".into()),
    };
    let li = actor("gj_li", Role::Handler);
    let v = Viewer::of(&li, &f, today(), None);
    assert!(v.steward_of_firm && !v.staff_of_firm);
    assert_eq!(v.unit, Some("区投资促进局"));
    // Before the assignment began, gj_li was not the steward.
    assert!(!Viewer::of(&li, &f, date(2024, 12, 31), None).steward_of_firm);
    let wang = actor("gj_wang", Role::Handler);
    assert!(!Viewer::of(&wang, &f, today(), None).steward_of_firm);
    let portal = actor("firm_login", Role::Citizen);
    assert!(Viewer::of(&portal, &f, today(), Some(&f.credit_code)).staff_of_firm);
    let other = parse_credit_code("91440300708461136T").unwrap();
    assert!(!Viewer::of(&portal, &f, today(), Some(&other)).staff_of_firm);
}
