//! The policy registry (京策-style push): a policy names its department, its deadline and who
//! may apply, as DATA — a small condition language over the firm's attributes — so matching a
//! policy to the 1,000 服务包 firms is a function, and every match says why.
//!
//! A condition is a JSON object with exactly one key:
//!
//! ```json
//! {"all": [
//!   {"industry": ["information", "research"]},
//!   {"any": [{"size": ["small", "micro"]}, {"tier": ["district"]}]},
//!   {"not": {"street": ["月坛"]}},
//!   {"founded_after": "2021-01-01"},
//!   {"employees": {"min": 10, "max": 300}},
//!   {"member": true}
//! ]}
//! ```
//!
//! `all`/`any` take a list, `not` one condition; `industry`, `size`, `tier` (the 服务包 tier on
//! the day of matching) and `street` a non-empty list; `founded_before`/`founded_after` a date
//! (both strict); `employees` an inclusive range with `min`, `max` or both; `member` whether
//! the firm is on the 服务包 list on the day. A firm whose record lacks the attribute (no
//! founding date, no head count) does not meet the condition.

use super::registry::{Enterprise, Industry, Size, Tier};
use crate::error::DomainError;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A condition over a firm's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Industry(Vec<Industry>),
    Size(Vec<Size>),
    Street(Vec<String>),
    Tier(Vec<Tier>),
    Member(bool),
    FoundedBefore(Date),
    FoundedAfter(Date),
    Employees {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
}

/// The attribute names of the language, in the order the docs list them.
pub const ATTRIBUTES: &[&str] = &[
    "all",
    "any",
    "not",
    "industry",
    "size",
    "street",
    "tier",
    "member",
    "founded_before",
    "founded_after",
    "employees",
];

/// A policy of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// A stable code (`bj-2026-zjtx-01`).
    pub id: String,
    pub name: String,
    /// The issuing department (发布部门).
    pub department: String,
    /// Who may apply.
    pub conditions: Condition,
    /// Last day to apply; `None` for a standing policy.
    #[serde(default)]
    pub deadline: Option<Date>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub url: Option<String>,
}

/// The deepest nesting and the most nodes a policy's conditions may have (a policy is read by
/// people; a tree past this is a mistake, and the bound keeps matching cheap).
pub const MAX_DEPTH: usize = 8;
pub const MAX_NODES: usize = 100;

/// Parses and validates a policy document (JSON). Every error names its path:
/// `conditions.all[1].any[0].size[2]` for a bad value, `conditions.all[2].colour` for an
/// unknown attribute (`unknown_field`), `deadline` for a bad date.
pub fn parse_policy(json: &str) -> Result<Policy, DomainError> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| DomainError::invalid("policy", "malformed_json", e.to_string()))?;
    policy_from_value(&v)
}

/// [`parse_policy`] over an already parsed JSON value.
pub fn policy_from_value(v: &Value) -> Result<Policy, DomainError> {
    let obj = v
        .as_object()
        .ok_or_else(|| DomainError::invalid("policy", "invalid", "must be an object"))?;
    for k in obj.keys() {
        if ![
            "id",
            "name",
            "department",
            "conditions",
            "deadline",
            "summary",
            "url",
        ]
        .contains(&k.as_str())
        {
            return Err(DomainError::invalid(
                k,
                "unknown_field",
                "not a policy field",
            ));
        }
    }
    let string = |key: &str, max: usize, required: bool| -> Result<String, DomainError> {
        match obj.get(key) {
            None | Some(Value::Null) if !required => Ok(String::new()),
            None | Some(Value::Null) => Err(DomainError::invalid(key, "required", "must be given")),
            Some(Value::String(s)) => {
                let s = s.trim();
                if required && s.is_empty() {
                    return Err(DomainError::invalid(key, "empty", "must not be empty"));
                }
                if s.chars().count() > max {
                    return Err(DomainError::invalid(
                        key,
                        "too_long",
                        format!("at most {max} characters"),
                    ));
                }
                Ok(s.to_string())
            }
            Some(_) => Err(DomainError::invalid(key, "invalid", "must be a string")),
        }
    };
    let id = string("id", 32, true)?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || id.len() < 2
    {
        return Err(DomainError::invalid(
            "id",
            "bad_code",
            "2–32 letters, digits, `-` or `_`",
        ));
    }
    let name = string("name", 200, true)?;
    let department = string("department", 100, true)?;
    let summary = string("summary", 2000, false)?;
    let url = Some(string("url", 500, false)?).filter(|u| !u.is_empty());
    let deadline = match obj.get("deadline") {
        None | Some(Value::Null) => None,
        Some(d) => Some(date("deadline", d)?),
    };
    let cond = obj
        .get("conditions")
        .ok_or_else(|| DomainError::invalid("conditions", "required", "must be given"))?;
    let mut nodes = 0;
    let conditions = condition("conditions", cond, 1, &mut nodes)?;
    Ok(Policy {
        id,
        name,
        department,
        conditions,
        deadline,
        summary,
        url,
    })
}

/// Validates a policy built in code or read back from the store (the same rules as
/// [`parse_policy`]).
pub fn validate_policy(p: &Policy) -> Result<(), DomainError> {
    let v = serde_json::to_value(p)
        .map_err(|e| DomainError::invalid("policy", "invalid", e.to_string()))?;
    policy_from_value(&v).map(|_| ())
}

fn date(path: &str, v: &Value) -> Result<Date, DomainError> {
    v.as_str()
        .and_then(|s| s.trim().parse::<Date>().ok())
        .ok_or_else(|| DomainError::invalid(path, "invalid", "a date YYYY-MM-DD"))
}

fn list<'a>(path: &str, v: &'a Value) -> Result<&'a Vec<Value>, DomainError> {
    let l = v
        .as_array()
        .ok_or_else(|| DomainError::invalid(path, "invalid", "must be a list"))?;
    if l.is_empty() {
        return Err(DomainError::invalid(path, "empty", "name at least one"));
    }
    if l.len() > MAX_NODES {
        return Err(DomainError::invalid(
            path,
            "too_many",
            format!("at most {MAX_NODES}"),
        ));
    }
    Ok(l)
}

fn vocab<T: std::str::FromStr>(path: &str, v: &Value) -> Result<Vec<T>, DomainError> {
    let l = list(path, v)?;
    l.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    DomainError::invalid(
                        &format!("{path}[{i}]"),
                        "unknown_value",
                        format!("`{x}` is not one of the codes"),
                    )
                })
        })
        .collect()
}

fn count(path: &str, v: Option<&Value>) -> Result<Option<u32>, DomainError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| DomainError::invalid(path, "invalid", "a whole number ≥ 0")),
    }
}

fn condition(
    path: &str,
    v: &Value,
    depth: usize,
    nodes: &mut usize,
) -> Result<Condition, DomainError> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(DomainError::invalid(
            path,
            "too_many",
            format!("at most {MAX_NODES} conditions"),
        ));
    }
    if depth > MAX_DEPTH {
        return Err(DomainError::invalid(
            path,
            "too_deep",
            format!("at most {MAX_DEPTH} levels"),
        ));
    }
    let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        DomainError::invalid(path, "invalid", "a condition is an object with one key")
    })?;
    let (key, arg) = obj.iter().next().expect("one key");
    let here = format!("{path}.{key}");
    let sub = |l: &Vec<Value>, nodes: &mut usize| -> Result<Vec<Condition>, DomainError> {
        l.iter()
            .enumerate()
            .map(|(i, c)| condition(&format!("{here}[{i}]"), c, depth + 1, nodes))
            .collect()
    };
    Ok(match key.as_str() {
        "all" => Condition::All(sub(list(&here, arg)?, nodes)?),
        "any" => Condition::Any(sub(list(&here, arg)?, nodes)?),
        "not" => Condition::Not(Box::new(condition(&here, arg, depth + 1, nodes)?)),
        "industry" => Condition::Industry(vocab(&here, arg)?),
        "size" => Condition::Size(vocab(&here, arg)?),
        "tier" => Condition::Tier(vocab(&here, arg)?),
        "street" => {
            let l = list(&here, arg)?;
            let mut out = Vec::with_capacity(l.len());
            for (i, s) in l.iter().enumerate() {
                match s.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() && s.chars().count() <= 50 => out.push(s.to_string()),
                    _ => {
                        return Err(DomainError::invalid(
                            &format!("{here}[{i}]"),
                            "invalid",
                            "a street's name or code",
                        ));
                    }
                }
            }
            Condition::Street(out)
        }
        "member" => Condition::Member(
            arg.as_bool()
                .ok_or_else(|| DomainError::invalid(&here, "invalid", "true or false"))?,
        ),
        "founded_before" => Condition::FoundedBefore(date(&here, arg)?),
        "founded_after" => Condition::FoundedAfter(date(&here, arg)?),
        "employees" => {
            let o = arg.as_object().ok_or_else(|| {
                DomainError::invalid(&here, "invalid", "an object with min and/or max")
            })?;
            if let Some(k) = o.keys().find(|k| *k != "min" && *k != "max") {
                return Err(DomainError::invalid(
                    &format!("{here}.{k}"),
                    "unknown_field",
                    "only min and max",
                ));
            }
            let min = count(&format!("{here}.min"), o.get("min"))?;
            let max = count(&format!("{here}.max"), o.get("max"))?;
            match (min, max) {
                (None, None) => {
                    return Err(DomainError::invalid(
                        &here,
                        "empty",
                        "give min, max or both",
                    ));
                }
                (Some(a), Some(b)) if a > b => {
                    return Err(DomainError::invalid(
                        &format!("{here}.max"),
                        "out_of_range",
                        "max must not be below min",
                    ));
                }
                _ => {}
            }
            Condition::Employees { min, max }
        }
        _ => {
            return Err(DomainError::invalid(
                &here,
                "unknown_field",
                format!("not an attribute (one of {})", ATTRIBUTES.join(", ")),
            ));
        }
    })
}

/// One condition's verdict, in the tree's pre-order: the root first, then its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Where the condition is: `conditions`, `conditions.all[1]`, …
    pub path: String,
    pub met: bool,
    /// What was asked and what the firm has, in Chinese (`规模：小型（要求：小型、微型）`).
    pub text: String,
}

/// Whether a firm may apply to a policy, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// The conditions hold and the deadline has not passed.
    pub eligible: bool,
    /// The conditions hold (whatever the deadline).
    pub conditions_met: bool,
    /// The deadline has passed.
    pub expired: bool,
    pub reasons: Vec<Reason>,
}

/// Matches `policy` against `firm` on `today` (the day decides the 服务包 membership and the
/// deadline).
pub fn matches(policy: &Policy, firm: &Enterprise, today: Date) -> Match {
    let mut reasons = Vec::new();
    let met = eval(&policy.conditions, "conditions", firm, today, &mut reasons);
    let expired = policy.deadline.is_some_and(|d| today > d);
    Match {
        eligible: met && !expired,
        conditions_met: met,
        expired,
        reasons,
    }
}

fn join<T: Copy>(xs: &[T], label: impl Fn(T) -> &'static str) -> String {
    xs.iter().map(|x| label(*x)).collect::<Vec<_>>().join("、")
}

fn eval(c: &Condition, path: &str, f: &Enterprise, today: Date, out: &mut Vec<Reason>) -> bool {
    let at = out.len();
    // A placeholder keeps the parent before its parts; it is filled in once they are known.
    out.push(Reason {
        path: path.to_string(),
        met: false,
        text: String::new(),
    });
    let (met, text) = match c {
        Condition::All(cs) | Condition::Any(cs) => {
            let key = if matches!(c, Condition::All(_)) {
                "all"
            } else {
                "any"
            };
            let results: Vec<bool> = cs
                .iter()
                .enumerate()
                .map(|(i, sub)| eval(sub, &format!("{path}.{key}[{i}]"), f, today, out))
                .collect();
            let n = results.iter().filter(|m| **m).count();
            if key == "all" {
                (
                    n == cs.len(),
                    format!("全部满足（{n}/{} 项满足）", cs.len()),
                )
            } else {
                (n > 0, format!("满足任一（{n}/{} 项满足）", cs.len()))
            }
        }
        Condition::Not(sub) => {
            let m = eval(sub, &format!("{path}.not"), f, today, out);
            (
                !m,
                format!("不得满足下列条件（{}）", if m { "满足" } else { "不满足" }),
            )
        }
        Condition::Industry(xs) => (
            xs.contains(&f.industry),
            format!(
                "行业：{}（要求：{}）",
                f.industry.label_zh(),
                join(xs, |x| x.label_zh())
            ),
        ),
        Condition::Size(xs) => (
            xs.contains(&f.size),
            format!(
                "规模：{}（要求：{}）",
                f.size.label_zh(),
                join(xs, |x| x.label_zh())
            ),
        ),
        Condition::Street(xs) => (
            xs.contains(&f.street),
            format!("街道：{}（要求：{}）", f.street, xs.join("、")),
        ),
        Condition::Tier(xs) => {
            let tier = f.membership_on(today).map(|m| m.tier);
            (
                tier.is_some_and(|t| xs.contains(&t)),
                format!(
                    "服务包：{}（要求：{}）",
                    tier.map_or("不在服务包名单", |t| t.label_zh()),
                    join(xs, |x| x.label_zh())
                ),
            )
        }
        Condition::Member(want) => {
            let is = f.is_member(today);
            (
                is == *want,
                format!(
                    "服务包名单：{}（要求：{}）",
                    if is { "在册" } else { "不在册" },
                    if *want { "在册" } else { "不在册" }
                ),
            )
        }
        Condition::FoundedBefore(d) | Condition::FoundedAfter(d) => {
            let before = matches!(c, Condition::FoundedBefore(_));
            let met = f
                .founded
                .is_some_and(|x| if before { x < *d } else { x > *d });
            let has = f.founded.map_or("未登记".to_string(), |x| x.to_string());
            let want = if before {
                format!("早于 {d}")
            } else {
                format!("晚于 {d}")
            };
            (met, format!("成立日期：{has}（要求：{want}）"))
        }
        Condition::Employees { min, max } => {
            let met = f
                .employees
                .is_some_and(|n| min.is_none_or(|a| n >= a) && max.is_none_or(|b| n <= b));
            let has = f.employees.map_or("未登记".to_string(), |n| n.to_string());
            let want = match (min, max) {
                (Some(a), Some(b)) => format!("{a}～{b} 人"),
                (Some(a), None) => format!("不少于 {a} 人"),
                (None, Some(b)) => format!("不超过 {b} 人"),
                (None, None) => "不限".to_string(),
            };
            (met, format!("从业人数：{has}（要求：{want}）"))
        }
    };
    out[at].met = met;
    out[at].text = text;
    met
}

/// A policy a firm may apply to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyMatch {
    pub policy_id: String,
    pub credit_code: String,
    pub firm_name: String,
}

/// For the steward's desk: every (policy, firm) pair where `steward` holds the firm on `today`
/// and the firm is eligible, policies in the order given, firms in the order given.
pub fn steward_matches(
    policies: &[Policy],
    firms: &[Enterprise],
    steward: &str,
    today: Date,
) -> Vec<PolicyMatch> {
    let mine: Vec<&Enterprise> = firms
        .iter()
        .filter(|f| f.is_steward(steward, today))
        .collect();
    let mut out = Vec::new();
    for p in policies {
        for f in &mine {
            if matches(p, f, today).eligible {
                out.push(PolicyMatch {
                    policy_id: p.id.clone(),
                    credit_code: f.credit_code.to_string(),
                    firm_name: f.name.clone(),
                });
            }
        }
    }
    out
}
