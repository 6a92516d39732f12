//! 知识库: the 咨询 knowledge base's rules, pure. An entry is a question as callers ask it, the
//! answer script an operator reads out, the policy it rests on, the unit responsible for that
//! policy, the dates it is valid between and the keywords it is found by.
//!
//! * [`validate`]: what an entry must hold (each refusal names its field).
//! * [`decide`]: the review workflow 草稿 → 待审核 → 已发布 → 已停用 — who may move an entry,
//!   from which state, and the four-eyes rule: whoever wrote the revision under review may not
//!   approve or reject it; a second person reviews.
//! * [`may_edit`]: admins edit every entry, a unit's handlers only their unit's.
//! * [`cited_answer`]: the reply a request closed from an entry records, citing it.

use crate::directory::Directory;
use crate::error::DomainError;
use crate::model::{Role, vocabulary};
use jiff::civil::Date;

/// A question shorter than this is not a question anyone can find.
pub const MIN_QUESTION_CHARS: usize = 4;
pub const MAX_QUESTION_CHARS: usize = 200;
/// An answer script shorter than this cannot tell a caller anything.
pub const MIN_ANSWER_CHARS: usize = 10;
/// The script plus its citation must fit a request's answer (`MAX_NOTE_CHARS`).
pub const MAX_ANSWER_CHARS: usize = 4000;
pub const MAX_SOURCE_CHARS: usize = 300;
pub const MAX_KEYWORDS: usize = 20;
pub const MAX_KEYWORD_CHARS: usize = 20;
/// A rejection's reason.
pub const MAX_NOTE_CHARS: usize = 500;

vocabulary! {
    /// Where an entry stands in its review.
    EntryStatus {
        Draft = "draft" / "草稿",
        InReview = "in_review" / "待审核",
        Published = "published" / "已发布",
        Retired = "retired" / "已停用",
    }
}

/// An entry as an editor submits it (the API's body, the editor's form).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    pub question: String,
    pub answer: String,
    pub policy_source: String,
    /// The responsible unit's code in the directory.
    pub unit: String,
    /// `YYYY-MM-DD`; today when absent.
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD`, inclusive; open-ended when absent.
    pub valid_to: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A validated entry's content (one revision).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryContent {
    pub question: String,
    pub answer: String,
    pub policy_source: String,
    pub unit: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub keywords: Vec<String>,
}

impl EntryContent {
    /// In force on `day` (the dates are inclusive).
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

fn text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    what: &str,
) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(
            field,
            "required",
            format!("请填写{what}。"),
        ));
    }
    let n = v.chars().count();
    if n < min {
        return Err(DomainError::invalid(
            field,
            "too_short",
            format!("{what}至少 {min} 个字。"),
        ));
    }
    if n > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("{what}最多 {max} 个字。"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            "control_characters",
            format!("{what}含有控制字符。"),
        ));
    }
    Ok(v.to_string())
}

fn date(field: &str, value: &str, what: &str) -> Result<Date, DomainError> {
    value.trim().parse::<Date>().map_err(|_| {
        DomainError::invalid(
            field,
            "invalid_date",
            format!("{what}应为“年-月-日”格式的日期，如 2026-01-01。"),
        )
    })
}

/// Checks an entry: question ≥ 4 and answer ≥ 10 characters, a policy source, a unit of the
/// directory, dates as `YYYY-MM-DD` with `valid_to` not before `valid_from`, at most
/// [`MAX_KEYWORDS`] keywords of at most [`MAX_KEYWORD_CHARS`] characters each (blank and
/// repeated ones dropped). `today` fills a missing `valid_from`.
pub fn validate(
    input: &EntryInput,
    dir: &Directory,
    today: Date,
) -> Result<EntryContent, DomainError> {
    let question = text(
        "question",
        &input.question,
        MIN_QUESTION_CHARS,
        MAX_QUESTION_CHARS,
        "问题",
    )?;
    let answer = text(
        "answer",
        &input.answer,
        MIN_ANSWER_CHARS,
        MAX_ANSWER_CHARS,
        "答复口径",
    )?;
    let policy_source = text(
        "policy_source",
        &input.policy_source,
        1,
        MAX_SOURCE_CHARS,
        "政策依据",
    )?;
    let unit = input.unit.trim();
    if unit.is_empty() {
        return Err(DomainError::invalid("unit", "required", "请选择责任单位。"));
    }
    if dir.unit(unit).is_none() {
        return Err(DomainError::invalid(
            "unit",
            "unknown_unit",
            format!("没有编码为“{unit}”的单位。"),
        ));
    }
    let valid_from = match input.valid_from.as_deref().map(str::trim) {
        None | Some("") => today,
        Some(v) => date("valid_from", v, "生效日期")?,
    };
    let valid_to = match input.valid_to.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(date("valid_to", v, "失效日期")?),
    };
    if let Some(to) = valid_to
        && to < valid_from
    {
        return Err(DomainError::invalid(
            "valid_to",
            "before_valid_from",
            "失效日期不能早于生效日期。",
        ));
    }
    let mut keywords: Vec<String> = Vec::new();
    for k in &input.keywords {
        let k = k.trim();
        if k.is_empty() || keywords.iter().any(|x| x == k) {
            continue;
        }
        if k.chars().count() > MAX_KEYWORD_CHARS {
            return Err(DomainError::invalid(
                "keywords",
                "keyword_too_long",
                format!("关键词“{k}”超过 {MAX_KEYWORD_CHARS} 个字。"),
            ));
        }
        if k.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::invalid(
                "keywords",
                "keyword_invalid",
                format!("关键词“{k}”不能含空格或控制字符。"),
            ));
        }
        keywords.push(k.to_string());
    }
    if keywords.len() > MAX_KEYWORDS {
        return Err(DomainError::invalid(
            "keywords",
            "too_many_keywords",
            format!("关键词最多 {MAX_KEYWORDS} 个。"),
        ));
    }
    Ok(EntryContent {
        question,
        answer,
        policy_source,
        unit: unit.to_string(),
        valid_from,
        valid_to,
        keywords,
    })
}

/// Splits an editor's keyword field (spaces, commas, 、 or ；) into keywords.
pub fn split_keywords(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；' | '|'))
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Who acts on an entry.
#[derive(Debug, Clone, Copy)]
pub struct Editor<'a> {
    pub user_id: i64,
    pub role: Role,
    /// A handler's unit.
    pub unit: Option<&'a str>,
}

/// Admins edit every entry; a handler only its own unit's (a department writes the answers
/// to its own policies). Everyone else is refused.
pub fn may_edit(editor: &Editor<'_>, entry_unit: &str) -> Result<(), DomainError> {
    match editor.role {
        Role::Admin => Ok(()),
        Role::Handler if editor.unit == Some(entry_unit) => Ok(()),
        Role::Handler => Err(DomainError::forbidden(
            "承办人只能编辑本单位负责的知识库条目。",
        )),
        _ => Err(DomainError::forbidden(
            "只有管理员和承办单位可以编辑知识库。",
        )),
    }
}

/// What someone does to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A new revision of the content.
    Edit,
    /// 提交审核.
    Submit,
    /// 审核通过: published.
    Approve,
    /// 驳回: back to draft, with a reason.
    Reject,
    /// 停用: no longer suggested or found.
    Retire,
}

impl Transition {
    pub fn label_zh(self) -> &'static str {
        match self {
            Transition::Edit => "修改",
            Transition::Submit => "提交审核",
            Transition::Approve => "审核通过",
            Transition::Reject => "驳回",
            Transition::Retire => "停用",
        }
    }
}

/// What [`decide`] needs to know of the entry.
#[derive(Debug, Clone, Copy)]
pub struct EntryFacts<'a> {
    pub status: EntryStatus,
    pub unit: &'a str,
    /// Who wrote the current revision (`None`: loaded by the system, e.g. the demo's seed).
    pub revision_author: Option<i64>,
}

fn refused(t: Transition, s: EntryStatus) -> DomainError {
    DomainError::refused(
        "invalid_transition",
        format!("{}状态的条目不能{}。", s.label_zh(), t.label_zh()),
    )
}

/// The status an entry moves to, or why not. Editing and submitting are the editors'
/// ([`may_edit`]); approving and rejecting are a reviewer's, who must not be the revision's
/// author. An edit of a published entry takes it back to draft: only reviewed text is ever
/// suggested. An entry under review is not edited (reject it first); a retired one is final.
pub fn decide(
    t: Transition,
    entry: &EntryFacts<'_>,
    actor: &Editor<'_>,
) -> Result<EntryStatus, DomainError> {
    use EntryStatus::*;
    match t {
        Transition::Edit => {
            may_edit(actor, entry.unit)?;
            match entry.status {
                Draft | Published => Ok(Draft),
                s => Err(refused(t, s)),
            }
        }
        Transition::Submit => {
            may_edit(actor, entry.unit)?;
            match entry.status {
                Draft => Ok(InReview),
                s => Err(refused(t, s)),
            }
        }
        Transition::Approve | Transition::Reject => {
            if entry.status != InReview {
                return Err(refused(t, entry.status));
            }
            if entry.revision_author == Some(actor.user_id) {
                return Err(DomainError::refused(
                    "own_revision",
                    "不能审核自己编写的条目，请由另一位审核人审核。",
                ));
            }
            Ok(if t == Transition::Approve {
                Published
            } else {
                Draft
            })
        }
        Transition::Retire => {
            may_edit(actor, entry.unit)?;
            match entry.status {
                Retired => Err(refused(t, Retired)),
                _ => Ok(Retired),
            }
        }
    }
}

/// The reply recorded when a 咨询 is answered from an entry: the script, then which entry and
/// which policy it came from.
pub fn cited_answer(entry_id: i64, content: &EntryContent) -> String {
    format!(
        "{}\n（答复依据：知识库第{}号《{}》；政策依据：{}）",
        content.answer, entry_id, content.question, content.policy_source
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
        Directory::new(jiesu_world::load_dir(&path).expect("world"))
    }

    fn day(s: &str) -> Date {
        s.parse().expect("date")
    }

    fn input() -> EntryInput {
        EntryInput {
            question: "公积金怎么提取？".into(),
            answer: "购房、租房、退休等情形可以申请提取住房公积金。".into(),
            policy_source: "《北京住房公积金提取管理办法》".into(),
            unit: "housing-construction".into(),
            valid_from: Some("2026-01-01".into()),
            valid_to: None,
            keywords: vec!["公积金".into(), " 提取 ".into(), "公积金".into(), "".into()],
        }
    }

    fn field_of(e: DomainError) -> (String, &'static str) {
        match e {
            DomainError::Invalid { field, code, .. } => (field, code),
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn a_good_entry_is_trimmed_and_its_keywords_deduplicated() {
        let c = validate(&input(), &dir(), day("2026-11-02")).expect("valid");
        assert_eq!(c.keywords, vec!["公积金", "提取"]);
        assert_eq!(c.valid_from, day("2026-01-01"));
        assert!(c.valid_on(day("2026-11-02")));
        assert!(!c.valid_on(day("2025-12-31")));
    }

    #[test]
    fn each_bad_field_is_named() {
        let d = dir();
        let today = day("2026-11-02");
        let cases: Vec<(EntryInput, &str, &str)> = vec![
            (
                EntryInput {
                    question: "公积".into(),
                    ..input()
                },
                "question",
                "too_short",
            ),
            (
                EntryInput {
                    question: "  ".into(),
                    ..input()
                },
                "question",
                "required",
            ),
            (
                EntryInput {
                    answer: "去窗口办。".into(),
                    ..input()
                },
                "answer",
                "too_short",
            ),
            (
                EntryInput {
                    answer: "字".repeat(MAX_ANSWER_CHARS + 1),
                    ..input()
                },
                "answer",
                "too_long",
            ),
            (
                EntryInput {
                    policy_source: "".into(),
                    ..input()
                },
                "policy_source",
                "required",
            ),
            (
                EntryInput {
                    unit: "no-such-unit".into(),
                    ..input()
                },
                "unit",
                "unknown_unit",
            ),
            (
                EntryInput {
                    valid_from: Some("2026/01/01".into()),
                    ..input()
                },
                "valid_from",
                "invalid_date",
            ),
            (
                EntryInput {
                    valid_to: Some("2025-12-31".into()),
                    ..input()
                },
                "valid_to",
                "before_valid_from",
            ),
            (
                EntryInput {
                    keywords: (0..=MAX_KEYWORDS).map(|i| format!("词{i}")).collect(),
                    ..input()
                },
                "keywords",
                "too_many_keywords",
            ),
            (
                EntryInput {
                    keywords: vec!["字".repeat(MAX_KEYWORD_CHARS + 1)],
                    ..input()
                },
                "keywords",
                "keyword_too_long",
            ),
        ];
        for (i, field, code) in cases {
            let e = validate(&i, &d, today).expect_err(field);
            assert_eq!(field_of(e), (field.to_string(), code));
        }
        // valid_to equal to valid_from is a one-day entry, not an error.
        let one_day = EntryInput {
            valid_to: Some("2026-01-01".into()),
            ..input()
        };
        assert!(validate(&one_day, &d, today).is_ok());
        // No valid_from: from today.
        let c = validate(
            &EntryInput {
                valid_from: None,
                ..input()
            },
            &d,
            today,
        )
        .expect("valid");
        assert_eq!(c.valid_from, today);
    }

    #[test]
    fn keywords_split_on_the_usual_separators() {
        assert_eq!(
            split_keywords("公积金，提取、租房 ;退休"),
            vec!["公积金", "提取", "租房", "退休"]
        );
    }

    const ADMIN: Editor<'static> = Editor {
        user_id: 1,
        role: Role::Admin,
        unit: None,
    };
    const SECOND_ADMIN: Editor<'static> = Editor {
        user_id: 2,
        role: Role::Admin,
        unit: None,
    };
    const HOUSING: Editor<'static> = Editor {
        user_id: 3,
        role: Role::Handler,
        unit: Some("housing-construction"),
    };
    const EDUCATION: Editor<'static> = Editor {
        user_id: 4,
        role: Role::Handler,
        unit: Some("education"),
    };

    fn facts(status: EntryStatus, author: Option<i64>) -> EntryFacts<'static> {
        EntryFacts {
            status,
            unit: "housing-construction",
            revision_author: author,
        }
    }

    #[test]
    fn admins_edit_everything_handlers_only_their_unit() {
        assert!(may_edit(&ADMIN, "education").is_ok());
        assert!(may_edit(&HOUSING, "housing-construction").is_ok());
        assert!(matches!(
            may_edit(&EDUCATION, "housing-construction"),
            Err(DomainError::Forbidden { .. })
        ));
        let operator = Editor {
            user_id: 9,
            role: Role::Operator,
            unit: None,
        };
        assert!(may_edit(&operator, "housing-construction").is_err());
    }

    #[test]
    fn the_author_cannot_review_their_own_revision() {
        use EntryStatus::*;
        let f = facts(InReview, Some(HOUSING.user_id));
        let e = decide(Transition::Approve, &f, &HOUSING).expect_err("own");
        assert_eq!(e.code(), "own_revision");
        let e = decide(Transition::Reject, &f, &HOUSING).expect_err("own");
        assert_eq!(e.code(), "own_revision");
        assert_eq!(decide(Transition::Approve, &f, &ADMIN), Ok(Published));
        assert_eq!(decide(Transition::Reject, &f, &ADMIN), Ok(Draft));
        // An admin's own entry needs another admin (or supervisor).
        let f = facts(InReview, Some(ADMIN.user_id));
        assert!(decide(Transition::Approve, &f, &ADMIN).is_err());
        assert_eq!(
            decide(Transition::Approve, &f, &SECOND_ADMIN),
            Ok(Published)
        );
    }

    #[test]
    fn the_workflow_moves_only_forward_from_allowed_states() {
        use EntryStatus::*;
        use Transition::*;
        let table: &[(Transition, EntryStatus, Option<EntryStatus>)] = &[
            (Edit, Draft, Some(Draft)),
            (Edit, Published, Some(Draft)),
            (Edit, InReview, None),
            (Edit, Retired, None),
            (Submit, Draft, Some(InReview)),
            (Submit, InReview, None),
            (Submit, Published, None),
            (Approve, Draft, None),
            (Approve, Published, None),
            (Approve, InReview, Some(Published)),
            (Reject, InReview, Some(Draft)),
            (Reject, Published, None),
            (Retire, Draft, Some(Retired)),
            (Retire, Published, Some(Retired)),
            (Retire, Retired, None),
        ];
        for (t, from, to) in table {
            let got = decide(*t, &facts(*from, Some(HOUSING.user_id)), &SECOND_ADMIN);
            match to {
                Some(s) => assert_eq!(got, Ok(*s), "{t:?} from {from:?}"),
                None => {
                    let e = got.expect_err("refused");
                    assert_eq!(e.code(), "invalid_transition", "{t:?} from {from:?}");
                }
            }
        }
        // Another unit's handler neither edits, submits nor retires.
        for t in [Edit, Submit, Retire] {
            assert!(matches!(
                decide(t, &facts(Draft, None), &EDUCATION),
                Err(DomainError::Forbidden { .. })
            ));
        }
    }

    #[test]
    fn the_cited_answer_names_the_entry_and_its_policy() {
        let c = validate(&input(), &dir(), day("2026-11-02")).expect("valid");
        let a = cited_answer(7, &c);
        assert!(a.starts_with(&c.answer));
        assert!(a.contains("知识库第7号《公积金怎么提取？》"));
        assert!(a.contains("《北京住房公积金提取管理办法》"));
        assert!(a.chars().count() <= crate::commands::MAX_NOTE_CHARS);
    }
}
