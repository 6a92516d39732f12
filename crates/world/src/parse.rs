//! One parser per file. Each checks what can be checked from that file alone and returns the
//! rows it could read (with their lines) plus every problem found; references between files
//! are checked in `load`.

use crate::error::{WorldError, WorldErrors};
use crate::table::{Lined, csv_rows, csv_rows_with, line_of, parse_toml};
use crate::{
    AssessmentWeights, Category, Community, DayKind, District, HolidayTable, Place, PlaceKind,
    Responsible, SlaClass, SlaPolicy, Span, Street, Unit, UnitKind,
};
use jiff::civil::{Date, Weekday};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use toml::Spanned;

pub(crate) type Parsed<T> = (T, Vec<WorldError>);

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Codes end up in URLs, CSV exports and `|`-lists, so keep them to a safe ASCII set.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

fn parse_population(row: &crate::table::Row<'_>, errors: &mut Vec<WorldError>) -> Option<u64> {
    let text = row.get("population");
    match text.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(row.error(
                "population",
                format!("{text:?} is not a whole non-negative number"),
            ));
            None
        }
    }
}

/// Reports a code already seen in the same file.
fn check_unique(
    seen: &mut HashMap<String, usize>,
    code: &str,
    file: &str,
    line: usize,
    errors: &mut Vec<WorldError>,
) -> bool {
    if let Some(first) = seen.get(code) {
        errors.push(WorldError::column(
            file,
            line,
            "code",
            format!("duplicate code {code:?} (first on line {first})"),
        ));
        false
    } else {
        seen.insert(code.to_owned(), line);
        true
    }
}

// ---------------------------------------------------------------- district.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistrict {
    code: Spanned<String>,
    name: Spanned<String>,
    population: u64,
    time_zone: Spanned<String>,
    #[serde(default)]
    mask_numbers_in_text: bool,
    #[serde(default)]
    passwords: Option<Spanned<crate::PasswordPolicy>>,
    #[serde(default)]
    audit_hash: Option<Spanned<String>>,
    #[serde(default)]
    publication: Option<Spanned<RawPublication>>,
}

/// `[publication]`, each value spanned so an error lands on its own line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublication {
    #[serde(default)]
    channels: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    address: Option<Spanned<String>>,
    #[serde(default)]
    text: Option<Spanned<String>>,
}

/// Checks `[publication]` and fills what it leaves out with the defaults.
fn publication(
    file: &str,
    text: &str,
    raw: Option<Spanned<RawPublication>>,
    errors: &mut Vec<WorldError>,
) -> crate::Publication {
    let mut out = crate::Publication::default();
    let Some(raw) = raw else {
        return out;
    };
    let line = |s: std::ops::Range<usize>| line_of(text, s.start);
    let raw = raw.into_inner();
    if let Some(channels) = raw.channels {
        out.channels.clear();
        for c in channels.into_inner() {
            let at = line(c.span());
            let c = c.into_inner();
            if !crate::CHANNELS.contains(&c.as_str()) {
                errors.push(WorldError::key(
                    file,
                    at,
                    "publication.channels",
                    format!(
                        "{c:?} is not a channel (one of {})",
                        crate::CHANNELS.join(", ")
                    ),
                ));
            } else if !out.channels.contains(&c) {
                out.channels.push(c);
            }
        }
    }
    if let Some(a) = raw.address {
        let at = line(a.span());
        match crate::AddressPrecision::ALL
            .iter()
            .find(|p| p.as_str() == a.get_ref())
        {
            Some(p) => out.address = *p,
            None => errors.push(WorldError::key(
                file,
                at,
                "publication.address",
                format!(
                    "{:?} is not one of full, building, community, street, none",
                    a.get_ref()
                ),
            )),
        }
    }
    if let Some(t) = raw.text {
        let at = line(t.span());
        match crate::TextRule::ALL
            .iter()
            .find(|r| r.as_str() == t.get_ref())
        {
            Some(r) => out.text = *r,
            None => errors.push(WorldError::key(
                file,
                at,
                "publication.text",
                format!("{:?} is not one of full, redacted, none", t.get_ref()),
            )),
        }
    }
    out
}

pub(crate) fn district(file: &str, text: &str) -> Parsed<Option<District>> {
    let mut errors = Vec::new();
    let Some(raw) = parse_toml::<RawDistrict>(file, text, &mut errors) else {
        return (None, errors);
    };
    let line = |s: &std::ops::Range<usize>| line_of(text, s.start);
    if !is_digits(raw.code.get_ref(), 6) {
        errors.push(WorldError::key(
            file,
            line(&raw.code.span()),
            "code",
            format!("{:?} is not a 6-digit division code", raw.code.get_ref()),
        ));
    }
    if raw.name.get_ref().trim().is_empty() {
        errors.push(WorldError::key(
            file,
            line(&raw.name.span()),
            "name",
            "must not be empty".to_owned(),
        ));
    }
    if raw.time_zone.get_ref().trim().is_empty() {
        errors.push(WorldError::key(
            file,
            line(&raw.time_zone.span()),
            "time_zone",
            "must name an IANA time zone such as \"Asia/Shanghai\"".to_owned(),
        ));
    }
    let passwords = match raw.passwords {
        None => crate::PasswordPolicy::default(),
        Some(p) => {
            let at = line(&p.span());
            let p = p.into_inner();
            if !(8..=128).contains(&p.min_length) {
                errors.push(WorldError::key(
                    file,
                    at,
                    "passwords.min_length",
                    format!(
                        "{} is outside 8–128 (等保 asks for at least 8)",
                        p.min_length
                    ),
                ));
            }
            if !(1..=4).contains(&p.min_classes) {
                errors.push(WorldError::key(
                    file,
                    at,
                    "passwords.min_classes",
                    format!(
                        "{} is not 1–4 (lower, upper, digits, other characters)",
                        p.min_classes
                    ),
                ));
            }
            p
        }
    };
    let audit_hash = match raw.audit_hash {
        None => "sha256".to_string(),
        Some(h) => {
            let v = h.get_ref().trim().to_ascii_lowercase();
            if v != "sha256" && v != "sm3" {
                errors.push(WorldError::key(
                    file,
                    line(&h.span()),
                    "audit_hash",
                    format!("{:?} is not sha256 or sm3", h.get_ref()),
                ));
            }
            v
        }
    };
    let publication = publication(file, text, raw.publication, &mut errors);
    let district = District {
        code: raw.code.into_inner(),
        name: raw.name.into_inner(),
        population: raw.population,
        time_zone: raw.time_zone.into_inner(),
        mask_numbers_in_text: raw.mask_numbers_in_text,
        passwords,
        audit_hash,
        publication,
    };
    (Some(district), errors)
}

// ---------------------------------------------------------------- streets.csv

pub(crate) fn streets(file: &str, text: &str) -> Parsed<Vec<Lined<Street>>> {
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in csv_rows(file, text, &["code", "name", "population"], &mut errors) {
        let code = row.get("code").to_owned();
        let mut ok = true;
        if !is_digits(&code, 9) {
            errors.push(row.error("code", format!("{code:?} is not a 9-digit street code")));
            ok = false;
        } else {
            ok &= check_unique(&mut seen, &code, file, row.line, &mut errors);
        }
        let name = row.required("name", &mut errors);
        let population = parse_population(&row, &mut errors);
        if let (true, Some(name), Some(population)) = (ok, name, population) {
            out.push(Lined {
                line: row.line,
                value: Street {
                    code,
                    name,
                    population,
                },
            });
        }
    }
    (out, errors)
}

// ---------------------------------------------------------------- communities.csv

pub(crate) fn communities(file: &str, text: &str) -> Parsed<Vec<Lined<Community>>> {
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in csv_rows(file, text, &["code", "name", "street_code"], &mut errors) {
        let code = row.get("code").to_owned();
        let mut ok = true;
        if !is_digits(&code, 12) {
            errors.push(row.error("code", format!("{code:?} is not a 12-digit community code")));
            ok = false;
        } else {
            ok &= check_unique(&mut seen, &code, file, row.line, &mut errors);
        }
        let name = row.required("name", &mut errors);
        let street_code = row.required("street_code", &mut errors);
        if let (true, Some(name), Some(street_code)) = (ok, name, street_code) {
            out.push(Lined {
                line: row.line,
                value: Community {
                    code,
                    name,
                    street_code,
                },
            });
        }
    }
    (out, errors)
}

// ---------------------------------------------------------------- units.csv

fn unit_kind(text: &str) -> Option<UnitKind> {
    match text {
        "street" => Some(UnitKind::Street),
        "department" => Some(UnitKind::Department),
        "utility" => Some(UnitKind::Utility),
        "provider" => Some(UnitKind::Provider),
        _ => None,
    }
}

pub(crate) fn units(file: &str, text: &str) -> Parsed<Vec<Lined<Unit>>> {
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in csv_rows(
        file,
        text,
        &["code", "name", "kind", "street_code"],
        &mut errors,
    ) {
        let code = row.get("code").to_owned();
        let mut ok = true;
        if !is_code(&code) {
            errors.push(row.error(
                "code",
                format!("{code:?} is not a code (lower-case ASCII letters, digits, - _ .)"),
            ));
            ok = false;
        } else {
            ok &= check_unique(&mut seen, &code, file, row.line, &mut errors);
        }
        let name = row.required("name", &mut errors);
        let kind_text = row.get("kind");
        let kind = unit_kind(kind_text);
        if kind.is_none() {
            errors.push(row.error(
                "kind",
                format!("{kind_text:?} is not one of street, department, utility, provider"),
            ));
        }
        let street_code = Some(row.get("street_code").to_owned()).filter(|s| !s.is_empty());
        if kind == Some(UnitKind::Street) && street_code.is_none() {
            errors.push(row.error(
                "street_code",
                "a street office must name the street it serves".to_owned(),
            ));
            ok = false;
        }
        if let (true, Some(name), Some(kind)) = (ok, name, kind) {
            out.push(Lined {
                line: row.line,
                value: Unit {
                    code,
                    name,
                    kind,
                    street_code,
                },
            });
        }
    }
    (out, errors)
}

// ---------------------------------------------------------------- categories.csv

pub(crate) fn categories(file: &str, text: &str) -> Parsed<Vec<Lined<Category>>> {
    let mut errors = Vec::new();
    let mut seen = HashMap::new();
    let mut out: Vec<Lined<Category>> = Vec::new();
    let columns = [
        "code",
        "name",
        "parent",
        "responsible",
        "sla_class",
        "keywords",
    ];
    for row in csv_rows_with(file, text, &columns, &["public"], &mut errors) {
        let code = row.get("code").to_owned();
        if !is_code(&code) {
            errors.push(row.error(
                "code",
                format!("{code:?} is not a code (lower-case ASCII letters, digits, - _ .)"),
            ));
            continue;
        }
        if !check_unique(&mut seen, &code, file, row.line, &mut errors) {
            continue;
        }
        let name = row.required("name", &mut errors).unwrap_or_default();
        let parent = Some(row.get("parent").to_owned()).filter(|s| !s.is_empty());
        let responsible = match row.get("responsible") {
            "" => None,
            "street" => Some(Responsible::Street),
            unit => Some(Responsible::Unit(unit.to_owned())),
        };
        let sla_class = Some(row.get("sla_class").to_owned()).filter(|s| !s.is_empty());
        let mut keywords: Vec<String> = Vec::new();
        for word in row.get("keywords").split('|').map(str::trim) {
            if !word.is_empty() && !keywords.iter().any(|k| k == word) {
                keywords.push(word.to_owned());
            }
        }
        // Empty inherits from the parent (a root with none is private).
        let public = match row.get("public") {
            "" => None,
            "yes" | "true" => Some(true),
            "no" | "false" => Some(false),
            other => {
                errors.push(row.error(
                    "public",
                    format!("{other:?} is not yes or no (or empty to inherit from the parent)"),
                ));
                None
            }
        };
        out.push(Lined {
            line: row.line,
            value: Category {
                code,
                name,
                parent,
                responsible,
                sla_class,
                keywords,
                public,
            },
        });
    }
    check_tree(file, &out, &mut errors);
    (out, errors)
}

/// Tree shape: parents exist, no cycles, routing only on leaves, at least two levels.
fn check_tree(file: &str, categories: &[Lined<Category>], errors: &mut Vec<WorldError>) {
    let by_code: HashMap<&str, &Lined<Category>> = categories
        .iter()
        .map(|c| (c.value.code.as_str(), c))
        .collect();
    let parents: HashSet<&str> = categories
        .iter()
        .filter_map(|c| c.value.parent.as_deref())
        .collect();

    let mut has_child_level = false;
    for lined in categories {
        let category = &lined.value;
        let line = lined.line;
        if let Some(parent) = &category.parent {
            if parent == &category.code {
                errors.push(WorldError::column(
                    file,
                    line,
                    "parent",
                    "a category cannot be its own parent".to_owned(),
                ));
            } else if !by_code.contains_key(parent.as_str()) {
                errors.push(WorldError::column(
                    file,
                    line,
                    "parent",
                    format!("unknown category {parent:?}"),
                ));
            } else {
                has_child_level = true;
                // Walk up; a chain longer than the table must loop.
                let mut chain = vec![category.code.as_str()];
                let mut current = parent.as_str();
                while let Some(node) = by_code.get(current) {
                    if current == category.code {
                        chain.push(current);
                        errors.push(WorldError::column(
                            file,
                            line,
                            "parent",
                            format!("parent chain loops: {}", chain.join(" → ")),
                        ));
                        break;
                    }
                    if chain.len() > categories.len() {
                        break;
                    }
                    chain.push(current);
                    match node.value.parent.as_deref() {
                        Some(next) => current = next,
                        None => break,
                    }
                }
            }
        }

        let is_leaf = !parents.contains(category.code.as_str());
        if is_leaf {
            if category.responsible.is_none() {
                errors.push(WorldError::column(
                    file,
                    line,
                    "responsible",
                    "a leaf category needs a responsible unit (\"street\" or a unit code)"
                        .to_owned(),
                ));
            }
            if category.sla_class.is_none() {
                errors.push(WorldError::column(
                    file,
                    line,
                    "sla_class",
                    "a leaf category needs an SLA class".to_owned(),
                ));
            }
        } else {
            // Requests are filed on leaves only, so routing here would never be used and
            // would mislead whoever edits the file.
            if category.responsible.is_some() {
                errors.push(WorldError::column(
                    file,
                    line,
                    "responsible",
                    "only leaf categories route; leave it empty on a category with children"
                        .to_owned(),
                ));
            }
            if category.sla_class.is_some() {
                errors.push(WorldError::column(
                    file,
                    line,
                    "sla_class",
                    "only leaf categories carry an SLA class; leave it empty on a category with children"
                        .to_owned(),
                ));
            }
        }
    }
    if !categories.is_empty() && !has_child_level {
        errors.push(WorldError::at(
            file,
            1,
            None,
            "the category tree needs at least two levels (some rows must name a parent)".to_owned(),
        ));
    }
    if categories.is_empty() && errors.is_empty() {
        errors.push(WorldError::at(file, 1, None, "no categories".to_owned()));
    }
}

// ---------------------------------------------------------------- sla.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlaClass {
    code: Spanned<String>,
    name: String,
    response: Spanned<Span>,
    completion: Spanned<Span>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    classes: Spanned<Vec<RawSlaClass>>,
    emergency_class: Spanned<String>,
    default_class: Spanned<String>,
    warning_ratio: Spanned<f64>,
    whistle_response: Spanned<Span>,
    callback: Spanned<Span>,
    max_extension: Spanned<Span>,
}

fn span_amount(span: Span) -> u32 {
    match span {
        Span::Hours(n) | Span::WorkingDays(n) => n,
    }
}

pub(crate) fn sla(file: &str, text: &str) -> Parsed<Option<SlaPolicy>> {
    let mut errors = Vec::new();
    let Some(raw) = parse_toml::<RawSla>(file, text, &mut errors) else {
        return (None, errors);
    };
    let line = |start: usize| line_of(text, start);
    let positive = |key: &str, span: &Spanned<Span>, errors: &mut Vec<WorldError>| {
        if span_amount(*span.get_ref()) == 0 {
            errors.push(WorldError::key(
                file,
                line(span.span().start),
                key,
                "must be a positive span".to_owned(),
            ));
        }
    };

    let mut seen = HashMap::new();
    let classes_line = line(raw.classes.span().start);
    let raw_classes = raw.classes.into_inner();
    if raw_classes.is_empty() {
        errors.push(WorldError::key(
            file,
            classes_line,
            "classes",
            "at least one class is needed".to_owned(),
        ));
    }
    let mut classes = Vec::new();
    for class in raw_classes {
        let code_line = line(class.code.span().start);
        let code = class.code.into_inner();
        if !is_code(&code) {
            errors.push(WorldError::key(
                file,
                code_line,
                "code",
                format!("{code:?} is not a code (lower-case ASCII letters, digits, - _ .)"),
            ));
        } else if let Some(first) = seen.get(&code) {
            errors.push(WorldError::key(
                file,
                code_line,
                "code",
                format!("duplicate class {code:?} (first on line {first})"),
            ));
        } else {
            seen.insert(code.clone(), code_line);
        }
        positive("response", &class.response, &mut errors);
        positive("completion", &class.completion, &mut errors);
        let (response, completion) = (*class.response.get_ref(), *class.completion.get_ref());
        // Different units (hours vs working days) are not comparable without a calendar.
        let comparable = matches!(
            (response, completion),
            (Span::Hours(_), Span::Hours(_)) | (Span::WorkingDays(_), Span::WorkingDays(_))
        );
        // A zero span is already reported; comparing it would only add noise.
        if comparable
            && span_amount(completion) > 0
            && span_amount(response) > span_amount(completion)
        {
            errors.push(WorldError::key(
                file,
                line(class.response.span().start),
                "response",
                "the response deadline is later than the completion deadline".to_owned(),
            ));
        }
        classes.push(SlaClass {
            code,
            name: class.name,
            response,
            completion,
        });
    }

    for (key, value) in [
        ("emergency_class", &raw.emergency_class),
        ("default_class", &raw.default_class),
    ] {
        if !classes.iter().any(|c| &c.code == value.get_ref()) {
            errors.push(WorldError::key(
                file,
                line(value.span().start),
                key,
                format!("unknown class {:?}", value.get_ref()),
            ));
        }
    }
    let ratio = *raw.warning_ratio.get_ref();
    if !(ratio > 0.0 && ratio < 1.0) {
        errors.push(WorldError::key(
            file,
            line(raw.warning_ratio.span().start),
            "warning_ratio",
            format!("must be between 0 and 1 (exclusive), got {ratio}"),
        ));
    }
    positive("whistle_response", &raw.whistle_response, &mut errors);
    positive("callback", &raw.callback, &mut errors);
    positive("max_extension", &raw.max_extension, &mut errors);

    let policy = SlaPolicy {
        classes,
        emergency_class: raw.emergency_class.into_inner(),
        default_class: raw.default_class.into_inner(),
        warning_ratio: ratio,
        whistle_response: raw.whistle_response.into_inner(),
        callback: raw.callback.into_inner(),
        max_extension: raw.max_extension.into_inner(),
    };
    (Some(policy), errors)
}

// ---------------------------------------------------------------- weights.toml

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    response: Spanned<f64>,
    resolution: Spanned<f64>,
    satisfaction: Spanned<f64>,
    satisfied_score: Spanned<f64>,
    basically_satisfied_score: Spanned<f64>,
    unsatisfied_score: Spanned<f64>,
}

pub(crate) fn weights(file: &str, text: &str) -> Parsed<Option<AssessmentWeights>> {
    let mut errors = Vec::new();
    let Some(raw) = parse_toml::<RawWeights>(file, text, &mut errors) else {
        return (None, errors);
    };
    let line = |v: &Spanned<f64>| line_of(text, v.span().start);
    let weights = AssessmentWeights {
        response: *raw.response.get_ref(),
        resolution: *raw.resolution.get_ref(),
        satisfaction: *raw.satisfaction.get_ref(),
        satisfied_score: *raw.satisfied_score.get_ref(),
        basically_satisfied_score: *raw.basically_satisfied_score.get_ref(),
        unsatisfied_score: *raw.unsatisfied_score.get_ref(),
    };
    let line_of_key = |key: &str| match key {
        "response" => line(&raw.response),
        "resolution" => line(&raw.resolution),
        "satisfaction" => line(&raw.satisfaction),
        "satisfied_score" => line(&raw.satisfied_score),
        "basically_satisfied_score" => line(&raw.basically_satisfied_score),
        _ => line(&raw.unsatisfied_score),
    };
    for p in weights.problems() {
        let (key, message) = match p {
            crate::WeightProblem::BadWeight(k, w) => (
                k,
                format!("a weight must be a non-negative number, got {w}"),
            ),
            // Reported at the first weight so the reader lands on the group to fix.
            crate::WeightProblem::SumNot100(sum) => (
                "response",
                format!("response + resolution + satisfaction must be 100, got {sum}"),
            ),
            crate::WeightProblem::BadScore(k, s) => {
                (k, format!("a score must be between 0 and 100, got {s}"))
            }
            crate::WeightProblem::ScoresOutOfOrder => (
                "basically_satisfied_score",
                "scores must not increase from satisfied to basically satisfied to unsatisfied"
                    .to_owned(),
            ),
        };
        let at = if key == "response" {
            ["response", "resolution", "satisfaction"]
                .iter()
                .map(|k| line_of_key(k))
                .min()
                .unwrap_or(1)
        } else {
            line_of_key(key)
        };
        errors.push(WorldError::key(file, at, key, message));
    }
    (Some(weights), errors)
}

// ---------------------------------------------------------------- holidays/*.csv

/// One row of a holiday file.
pub(crate) struct HolidayRow {
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
}

fn parse_date(text: &str) -> Option<Date> {
    // Only plain YYYY-MM-DD: jiff would also accept a full timestamp and drop the time.
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    text.parse::<Date>().ok()
}

pub(crate) fn holiday_rows(file: &str, text: &str) -> Parsed<Vec<Lined<HolidayRow>>> {
    let mut errors = Vec::new();
    let mut seen: HashMap<Date, usize> = HashMap::new();
    let mut out = Vec::new();
    for row in csv_rows(file, text, &["date", "name", "kind"], &mut errors) {
        let date_text = row.get("date");
        let date = parse_date(date_text);
        if date.is_none() {
            errors.push(row.error(
                "date",
                format!("{date_text:?} is not a valid date (YYYY-MM-DD)"),
            ));
        }
        let name = row.required("name", &mut errors);
        let kind_text = row.get("kind");
        let kind = match kind_text {
            "holiday" => Some(DayKind::Holiday),
            "makeup_workday" => Some(DayKind::MakeupWorkday),
            _ => {
                errors.push(row.error(
                    "kind",
                    format!("{kind_text:?} is not one of holiday, makeup_workday"),
                ));
                None
            }
        };
        let (Some(date), Some(name), Some(kind)) = (date, name, kind) else {
            continue;
        };
        if kind == DayKind::MakeupWorkday
            && !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
        {
            errors.push(row.error(
                "kind",
                format!(
                    "{date} is a {:?}; a makeup workday (调休) must fall on a Saturday or Sunday",
                    date.weekday()
                ),
            ));
            continue;
        }
        if let Some(first) = seen.get(&date) {
            errors.push(row.error(
                "date",
                format!("{date} is listed twice (first on line {first})"),
            ));
            continue;
        }
        seen.insert(date, row.line);
        out.push(Lined {
            line: row.line,
            value: HolidayRow { date, kind, name },
        });
    }
    (out, errors)
}

/// The year a holiday file covers: the most common year among its dates, because a break
/// spanning the new year puts a few December dates into the next year's file.
pub(crate) fn holiday_year(rows: &[Lined<HolidayRow>]) -> Option<i16> {
    let mut counts: BTreeMap<i16, usize> = BTreeMap::new();
    for row in rows {
        *counts.entry(row.value.date.year()).or_default() += 1;
    }
    // On a tie, the later year wins (max_by_key keeps the last maximum).
    counts
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .map(|(year, _)| year)
}

/// Merges holiday files into one table; a date listed in two files is an error.
pub(crate) fn holiday_table<'f>(
    files: impl IntoIterator<Item = (&'f str, &'f str)>,
) -> Parsed<HolidayTable> {
    let mut errors = Vec::new();
    let mut table = HolidayTable::default();
    let mut origin: HashMap<Date, (String, usize)> = HashMap::new();
    for (file, text) in files {
        let (rows, mut file_errors) = holiday_rows(file, text);
        errors.append(&mut file_errors);
        match holiday_year(&rows) {
            Some(year) => {
                table.years.insert(year);
            }
            None => {
                // With no readable row the year is unknown; say so unless rows were rejected.
                if !errors.iter().any(|e| e.file == file) {
                    errors.push(WorldError::at(
                        file,
                        1,
                        None,
                        "no dates; a holiday file lists one year's holidays and makeup workdays"
                            .to_owned(),
                    ));
                }
            }
        }
        for row in rows {
            let date = row.value.date;
            if let Some((first_file, first_line)) = origin.get(&date) {
                errors.push(WorldError::column(
                    file,
                    row.line,
                    "date",
                    format!("{date} is already listed in {first_file}:{first_line}"),
                ));
                continue;
            }
            origin.insert(date, (file.to_owned(), row.line));
            table.days.insert(date, (row.value.kind, row.value.name));
        }
    }
    (table, errors)
}

// ---------------------------------------------------------------- places.csv

fn place_kind(text: &str) -> Option<PlaceKind> {
    match text {
        "road" => Some(PlaceKind::Road),
        "hutong" => Some(PlaceKind::Hutong),
        "compound" => Some(PlaceKind::Compound),
        "landmark" => Some(PlaceKind::Landmark),
        "area" => Some(PlaceKind::Area),
        _ => None,
    }
}

/// A name may appear on several rows (a road crossing streets); the same name, street and
/// community twice is a copy-paste slip and reported.
pub(crate) fn places(file: &str, text: &str) -> Parsed<Vec<Lined<Place>>> {
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut out = Vec::new();
    for row in csv_rows(
        file,
        text,
        &["name", "kind", "street_code", "community_code"],
        &mut errors,
    ) {
        let mut ok = true;
        let name = row.required("name", &mut errors);
        if let Some(n) = &name
            && (n.chars().count() < 2 || n.chars().any(char::is_whitespace))
        {
            errors.push(row.error(
                "name",
                format!("{n:?} must be at least 2 characters without spaces"),
            ));
            ok = false;
        }
        let kind_text = row.get("kind");
        let kind = place_kind(kind_text);
        if kind.is_none() {
            errors.push(row.error(
                "kind",
                format!("{kind_text:?} is not one of road, hutong, compound, landmark, area"),
            ));
        }
        let street_code = row.get("street_code").to_owned();
        if !is_digits(&street_code, 9) {
            errors.push(row.error(
                "street_code",
                format!("{street_code:?} is not a 9-digit street code"),
            ));
            ok = false;
        }
        let community = row.get("community_code");
        let community_code = if community.is_empty() {
            None
        } else if is_digits(community, 12) {
            Some(community.to_owned())
        } else {
            errors.push(row.error(
                "community_code",
                format!("{community:?} is not a 12-digit community code"),
            ));
            ok = false;
            None
        };
        if let (true, Some(name), Some(kind)) = (ok, name, kind) {
            let key = (
                name.clone(),
                street_code.clone(),
                community_code.clone().unwrap_or_default(),
            );
            if let Some(first) = seen.get(&key) {
                errors.push(row.error(
                    "name",
                    format!("{name:?} repeats line {first} with the same street and community"),
                ));
                continue;
            }
            seen.insert(key, row.line);
            out.push(Lined {
                line: row.line,
                value: Place {
                    name,
                    kind,
                    street_code,
                    community_code,
                },
            });
        }
    }
    (out, errors)
}

// ---------------------------------------------------------------- public single-file parsers

fn finish<T>((value, errors): Parsed<Option<T>>) -> Result<T, WorldErrors> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(WorldErrors(errors)),
    }
}

fn strip<T>((rows, errors): Parsed<Vec<Lined<T>>>) -> Result<Vec<T>, WorldErrors> {
    WorldErrors::into_result(errors, rows.into_iter().map(|r| r.value).collect())
}

/// Parses `district.toml`.
pub fn parse_district_toml(file: &str, text: &str) -> Result<District, WorldErrors> {
    finish(district(file, text))
}

/// Parses `streets.csv` (`code,name,population`).
pub fn parse_streets_csv(file: &str, text: &str) -> Result<Vec<Street>, WorldErrors> {
    strip(streets(file, text))
}

/// Parses `communities.csv` (`code,name,street_code`); street references are not checked.
pub fn parse_communities_csv(file: &str, text: &str) -> Result<Vec<Community>, WorldErrors> {
    strip(communities(file, text))
}

/// Parses `units.csv` (`code,name,kind,street_code`); street references are not checked.
pub fn parse_units_csv(file: &str, text: &str) -> Result<Vec<Unit>, WorldErrors> {
    strip(units(file, text))
}

/// Parses `categories.csv` (`code,name,parent,responsible,sla_class,keywords`, optionally
/// `public`) and checks the tree's shape; unit and SLA class references are checked by
/// [`crate::load_sources`].
pub fn parse_categories_csv(file: &str, text: &str) -> Result<Vec<Category>, WorldErrors> {
    strip(categories(file, text))
}

/// Parses `places.csv` (`name,kind,street_code,community_code`); street and community
/// references are checked by [`crate::add_places`].
pub fn parse_places_csv(file: &str, text: &str) -> Result<Vec<Place>, WorldErrors> {
    strip(places(file, text))
}

/// Parses `sla.toml`.
pub fn parse_sla_toml(file: &str, text: &str) -> Result<SlaPolicy, WorldErrors> {
    finish(sla(file, text))
}

/// Parses `weights.toml`.
pub fn parse_weights_toml(file: &str, text: &str) -> Result<AssessmentWeights, WorldErrors> {
    finish(weights(file, text))
}

/// Parses one holiday file (`date,name,kind`) into a table covering that file's year.
pub fn parse_holiday_csv(file: &str, text: &str) -> Result<HolidayTable, WorldErrors> {
    let (table, errors) = holiday_table([(file, text)]);
    WorldErrors::into_result(errors, table)
}

/// Merges several holiday files (`(file name, text)`); a date in two files is an error.
pub fn parse_holiday_files<'f>(
    files: impl IntoIterator<Item = (&'f str, &'f str)>,
) -> Result<HolidayTable, WorldErrors> {
    let (table, errors) = holiday_table(files);
    WorldErrors::into_result(errors, table)
}
