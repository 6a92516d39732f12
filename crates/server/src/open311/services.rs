//! Services (the category tree's leaves) and the extra questions a few categories ask
//! (GeoReport "service definitions").
//!
//! The questions are few and tied to how a unit handles the case (the heating company needs the
//! indoor temperature; a trapped person makes an elevator fault an emergency), so they live here
//! in code beside their validation rather than in the world files.

use super::doc::Doc;
use jiesu_domain::Directory;
use jiesu_world::Category;

/// GeoReport attribute datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::SingleValueList => "singlevaluelist",
            Datatype::MultiValueList => "multivaluelist",
        }
    }
    fn is_list(self) -> bool {
        matches!(self, Datatype::SingleValueList | Datatype::MultiValueList)
    }
}

/// One question of a service definition.
#[derive(Debug)]
pub struct Attribute {
    pub code: &'static str,
    pub datatype: Datatype,
    pub required: bool,
    /// What the client shows the person.
    pub description: &'static str,
    pub datatype_description: Option<&'static str>,
    /// The label the answer carries in the request text (「室内温度: 14」).
    pub label: &'static str,
    /// For lists: (key, name).
    pub values: &'static [(&'static str, &'static str)],
    /// An answer with this key marks the request urgent (emergency SLA class).
    pub urgent_if: Option<&'static str>,
}

const YES_NO: &[(&str, &str)] = &[("yes", "是"), ("no", "否")];

/// Service code → its questions, in presentation order.
const DEFINITIONS: &[(&str, &[Attribute])] = &[
    (
        "heating.no-heat",
        &[
            Attribute {
                code: "indoor_temperature",
                datatype: Datatype::Number,
                required: true,
                description: "室内温度（摄氏度），请在室内中央、离地1米处测量",
                datatype_description: Some("数字，如 14 或 15.5"),
                label: "室内温度(℃)",
                values: &[],
                urgent_if: None,
            },
            Attribute {
                code: "heating_type",
                datatype: Datatype::SingleValueList,
                required: false,
                description: "供暖方式",
                datatype_description: None,
                label: "供暖方式",
                values: &[
                    ("central", "集中供暖"),
                    ("gas", "燃气自采暖"),
                    ("electric", "电采暖"),
                ],
                urgent_if: None,
            },
        ],
    ),
    (
        "property.elevator",
        &[Attribute {
            code: "people_trapped",
            datatype: Datatype::SingleValueList,
            required: true,
            description: "是否有人被困在电梯内？有人被困请同时拨打119",
            datatype_description: None,
            label: "有人被困",
            values: YES_NO,
            urgent_if: Some("yes"),
        }],
    ),
    (
        "traffic.illegal-parking",
        &[Attribute {
            code: "plate_number",
            datatype: Datatype::String,
            required: false,
            description: "车牌号（如能看清）",
            datatype_description: Some("如 京A12345"),
            label: "车牌号",
            values: &[],
            urgent_if: None,
        }],
    ),
    (
        "construction.noise",
        &[
            Attribute {
                code: "noise_started_at",
                datatype: Datatype::Datetime,
                required: false,
                description: "噪音开始的时间",
                datatype_description: Some("ISO 8601，如 2026-11-02T22:30:00+08:00"),
                label: "噪音开始时间",
                values: &[],
                urgent_if: None,
            },
            Attribute {
                code: "noise_sources",
                datatype: Datatype::MultiValueList,
                required: false,
                description: "噪音来源（可多选）",
                datatype_description: None,
                label: "噪音来源",
                values: &[
                    ("machinery", "施工机械"),
                    ("piling", "打桩"),
                    ("trucks", "渣土车"),
                    ("voices", "人员喧哗"),
                ],
                urgent_if: None,
            },
        ],
    ),
];

/// The questions of a service (empty: none).
pub fn attributes(code: &str) -> &'static [Attribute] {
    DEFINITIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(&[], |(_, a)| a)
}

/// A service is a leaf of the category tree.
pub fn leaf<'a>(dir: &'a Directory, code: &str) -> Option<&'a Category> {
    dir.category(code).filter(|_| dir.is_leaf_category(code))
}

/// Appended to the description of a service whose requests are not published.
pub const NOT_PUBLISHED: &str = "（可提交；此类诉求涉及个人情况，不在公开查询中发布）";

/// The service list: every leaf category, in the world's order.
pub fn list(dir: &Directory) -> Doc {
    let services = dir
        .world
        .categories
        .iter()
        .filter(|c| dir.is_leaf_category(&c.code))
        .map(|c| service(dir, c))
        .collect();
    Doc::List("service", services)
}

fn service(dir: &Directory, c: &Category) -> Doc {
    let group = c
        .parent
        .as_deref()
        .and_then(|p| dir.category(p))
        .map(|p| p.name.clone());
    let mut description = match &group {
        Some(g) => format!("{g}：{}", c.name),
        None => c.name.clone(),
    };
    // A private category is still offered for filing (the door is an intake door too), but
    // the client is told its requests never appear on the read side.
    if !dir.world.category_is_public(&c.code) {
        description.push_str(NOT_PUBLISHED);
    }
    Doc::Obj(vec![
        ("service_code", Doc::str(&c.code)),
        ("service_name", Doc::str(&c.name)),
        ("description", Doc::str(description)),
        ("metadata", Doc::Bool(!attributes(&c.code).is_empty())),
        ("type", Doc::str("realtime")),
        ("keywords", Doc::str(c.keywords.join(", "))),
        ("group", Doc::opt(group)),
    ])
}

/// The service definition of `code`, if it asks anything.
pub fn definition(code: &str) -> Option<Doc> {
    let attrs = attributes(code);
    if attrs.is_empty() {
        return None;
    }
    let attributes = attrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut fields = vec![
                ("variable", Doc::Bool(true)),
                ("code", Doc::str(a.code)),
                ("datatype", Doc::str(a.datatype.as_str())),
                ("required", Doc::Bool(a.required)),
                ("datatype_description", Doc::opt(a.datatype_description)),
                ("order", Doc::Int(i as i64 + 1)),
                ("description", Doc::str(a.description)),
            ];
            if a.datatype.is_list() {
                let values = a
                    .values
                    .iter()
                    .map(|(k, n)| Doc::Obj(vec![("key", Doc::str(*k)), ("name", Doc::str(*n))]))
                    .collect();
                fields.push(("values", Doc::List("value", values)));
            }
            Doc::Obj(fields)
        })
        .collect();
    Some(Doc::Obj(vec![
        ("service_code", Doc::str(code)),
        ("attributes", Doc::List("attribute", attributes)),
    ]))
}

/// Checked answers to a service's questions.
#[derive(Debug, Default)]
pub struct Answers {
    /// `label: value` lines for the request text, in the definition's order.
    pub lines: Vec<String>,
    pub urgent: bool,
}

/// Checks the `attribute[code]` (and `attribute[code][]`) answers against the definition:
/// required questions answered, values of the right type, list keys known, nothing unknown.
pub fn check(code: &str, given: &[(String, String)]) -> Result<Answers, String> {
    let attrs = attributes(code);
    for (name, _) in given {
        if !attrs.iter().any(|a| a.code == name) {
            return Err(if attrs.is_empty() {
                format!("service `{code}` has no attributes, but attribute[{name}] was sent")
            } else {
                let known: Vec<&str> = attrs.iter().map(|a| a.code).collect();
                format!(
                    "unknown attribute[{name}] for service `{code}`; known: {}",
                    known.join(", ")
                )
            });
        }
    }
    let mut out = Answers::default();
    for a in attrs {
        let values: Vec<&str> = given
            .iter()
            .filter(|(n, _)| n == a.code)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if a.required {
                return Err(format!(
                    "attribute[{}] is required for service `{code}`: {}",
                    a.code, a.description
                ));
            }
            continue;
        }
        if values.len() > 1 && a.datatype != Datatype::MultiValueList {
            return Err(format!("attribute[{}] takes one value", a.code));
        }
        let mut shown = Vec::new();
        for v in &values {
            shown.push(check_value(a, v)?);
            if a.urgent_if == Some(*v) {
                out.urgent = true;
            }
        }
        out.lines.push(format!("{}: {}", a.label, shown.join("、")));
    }
    Ok(out)
}

/// One answer, checked; returns how it reads in the request text.
fn check_value(a: &Attribute, v: &str) -> Result<String, String> {
    let bad = |what: &str| format!("attribute[{}]: `{v}` is not {what}", a.code);
    match a.datatype {
        Datatype::Number => match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(v.to_string()),
            _ => Err(bad("a number")),
        },
        Datatype::Datetime => {
            let ok = v.parse::<jiff::Timestamp>().is_ok()
                || v.parse::<jiff::civil::DateTime>().is_ok()
                || v.parse::<jiff::civil::Date>().is_ok();
            if ok {
                Ok(v.to_string())
            } else {
                Err(bad("an ISO 8601 date or time"))
            }
        }
        Datatype::String if v.contains(['\n', '\r']) => Err(bad("a single line")),
        Datatype::String | Datatype::Text => {
            if v.chars().count() > 500 {
                Err(format!("attribute[{}]: at most 500 characters", a.code))
            } else {
                Ok(v.to_string())
            }
        }
        Datatype::SingleValueList | Datatype::MultiValueList => a
            .values
            .iter()
            .find(|(k, _)| *k == v)
            .map(|(_, name)| name.to_string())
            .ok_or_else(|| {
                let keys: Vec<&str> = a.values.iter().map(|(k, _)| *k).collect();
                format!(
                    "attribute[{}]: `{v}` is not one of {}",
                    a.code,
                    keys.join(", ")
                )
            }),
    }
}
