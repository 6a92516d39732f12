//! The column-mapping file (`world/mappings/*.toml`) and what it resolves against: the
//! world's names and codes (`Names`) and the header positions of the mapped columns (`Cols`).

use anyhow::{Context, Result, bail};
use jiesu_domain::Directory;
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// The mapping file

/// A column-mapping file (see `world/mappings/*.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Short name of the source platform; part of every idempotency key and tracking code, so
    /// it must stay the same between imports of the same platform's files.
    pub source: String,
    /// `utf-8`, `gbk` or `auto` (UTF-8 if the start of the file is valid UTF-8, else GBK).
    #[serde(default = "default_encoding")]
    pub encoding: String,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// IANA zone the file's times are local to.
    pub time_zone: String,
    /// strftime formats tried in order for date-times.
    pub time_formats: Vec<String>,
    /// strftime formats for date-only values; accepted for the due date only (end of that day).
    #[serde(default)]
    pub date_formats: Vec<String>,
    /// Separator between joined text columns.
    #[serde(default = "default_joiner")]
    pub text_joiner: String,
    /// XLSX files: the worksheet to read (default: the first).
    #[serde(default)]
    pub sheet: Option<String>,
    pub columns: Columns,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub values: Values,
}

fn default_encoding() -> String {
    "auto".into()
}
fn default_delimiter() -> String {
    ",".into()
}
fn default_joiner() -> String {
    "；".into()
}

/// One column, or several joined.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Which header names hold what. Only `id`, `received_at` and `text` are required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub id: String,
    pub received_at: String,
    pub text: OneOrMany,
    pub title: Option<String>,
    pub closed_at: Option<String>,
    pub due_at: Option<String>,
    pub replied_at: Option<String>,
    pub callback_at: Option<String>,
    pub request_type: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
    pub unit: Option<String>,
    pub reply: Option<String>,
    pub callback: Option<String>,
    pub satisfaction: Option<String>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
}

/// Values used when the file has no column (or an empty cell) for them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Request type code when the file has none (e.g. `complaint` for a 311 file).
    pub request_type: Option<String>,
    /// Category code for values the category map does not know; unset = leave it empty.
    pub category: Option<String>,
}

/// Value maps: the file's value → our code. Values not listed are tried as our own codes and
/// Chinese names (streets, communities, units, categories, types) before being reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Values {
    #[serde(default)]
    pub request_type: HashMap<String, String>,
    #[serde(default)]
    pub category: HashMap<String, String>,
    /// → one of our status codes; only `closed` (and `merged`) mean the row is finished.
    #[serde(default)]
    pub status: HashMap<String, String>,
    #[serde(default)]
    pub street: HashMap<String, String>,
    #[serde(default)]
    pub community: HashMap<String, String>,
    #[serde(default)]
    pub unit: HashMap<String, String>,
    /// → `resolved`, `unresolved` or `unreached`.
    #[serde(default)]
    pub callback: HashMap<String, String>,
    /// → `satisfied`, `basically_satisfied`, `unsatisfied`.
    #[serde(default)]
    pub satisfaction: HashMap<String, String>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the mapping {}", path.display()))?;
        let m: Mapping =
            toml::from_str(&text).with_context(|| format!("mapping {}", path.display()))?;
        if m.source.trim().is_empty() || m.source.contains(':') {
            bail!("mapping: `source` must be a non-empty name without `:`");
        }
        if !matches!(m.encoding.as_str(), "utf-8" | "gbk" | "auto") {
            bail!(
                "mapping: encoding `{}`: use `utf-8`, `gbk` or `auto`",
                m.encoding
            );
        }
        if m.delimiter.len() != 1 {
            bail!("mapping: delimiter must be one ASCII character");
        }
        if m.time_formats.is_empty() {
            bail!("mapping: give at least one entry in time_formats");
        }
        TimeZone::get(&m.time_zone)
            .with_context(|| format!("mapping: time_zone `{}`", m.time_zone))?;
        Ok(m)
    }
}

// ---------------------------------------------------------------------------------------------
// Resolving values against the world

/// Names and codes of the world, for values the mapping does not list.
pub(super) struct Names {
    pub(super) categories: HashMap<String, String>,
    pub(super) streets: HashMap<String, String>,
    pub(super) communities: HashMap<(String, String), String>,
    pub(super) communities_any: HashMap<String, Option<String>>,
    pub(super) units: HashMap<String, String>,
}

impl Names {
    pub(super) fn new(dir: &Directory) -> Names {
        let w = &dir.world;
        let mut categories = HashMap::new();
        for c in &w.categories {
            if dir.is_leaf_category(&c.code) {
                categories.insert(c.code.clone(), c.code.clone());
                categories
                    .entry(c.name.clone())
                    .or_insert_with(|| c.code.clone());
            }
        }
        let mut streets = HashMap::new();
        for s in &w.streets {
            streets.insert(s.code.clone(), s.code.clone());
            streets.insert(s.name.clone(), s.code.clone());
            // Exports write 西长安街街道, 西长安街 or 西长安街街道办事处.
            if let Some(short) = s.name.strip_suffix("街道") {
                streets.insert(short.to_string(), s.code.clone());
                streets.insert(format!("{}办事处", s.name), s.code.clone());
            }
        }
        let mut communities = HashMap::new();
        let mut communities_any: HashMap<String, Option<String>> = HashMap::new();
        for c in &w.communities {
            communities.insert((c.street_code.clone(), c.name.clone()), c.code.clone());
            communities_any.insert(c.code.clone(), Some(c.code.clone()));
            // A name used in two streets is ambiguous without the street.
            communities_any
                .entry(c.name.clone())
                .and_modify(|v| *v = None)
                .or_insert_with(|| Some(c.code.clone()));
        }
        let mut units = HashMap::new();
        for u in &w.units {
            units.insert(u.code.clone(), u.code.clone());
            units.insert(u.name.clone(), u.code.clone());
        }
        Names {
            categories,
            streets,
            communities,
            communities_any,
            units,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

/// Header positions of the mapped columns.
pub(super) struct Cols {
    pub(super) id: usize,
    pub(super) received_at: usize,
    pub(super) text: Vec<usize>,
    pub(super) title: Option<usize>,
    pub(super) closed_at: Option<usize>,
    pub(super) due_at: Option<usize>,
    pub(super) replied_at: Option<usize>,
    pub(super) callback_at: Option<usize>,
    pub(super) request_type: Option<usize>,
    pub(super) category: Option<usize>,
    pub(super) status: Option<usize>,
    pub(super) street: Option<usize>,
    pub(super) community: Option<usize>,
    pub(super) address: Option<usize>,
    pub(super) unit: Option<usize>,
    pub(super) reply: Option<usize>,
    pub(super) callback: Option<usize>,
    pub(super) satisfaction: Option<usize>,
    pub(super) caller_name: Option<usize>,
    pub(super) caller_phone: Option<usize>,
}

impl Cols {
    /// Whether column `i` is mapped to anything.
    pub(super) fn uses(&self, i: usize) -> bool {
        [self.id, self.received_at].contains(&i)
            || self.text.contains(&i)
            || [
                self.title,
                self.closed_at,
                self.due_at,
                self.replied_at,
                self.callback_at,
                self.request_type,
                self.category,
                self.status,
                self.street,
                self.community,
                self.address,
                self.unit,
                self.reply,
                self.callback,
                self.satisfaction,
                self.caller_name,
                self.caller_phone,
            ]
            .contains(&Some(i))
    }

    /// Every mapped column must be in the header; all missing ones are named at once.
    pub(super) fn resolve(c: &Columns, header: &[String]) -> Result<Cols> {
        let mut missing = Vec::new();
        let mut find = |name: &str| -> usize {
            match header.iter().position(|h| h == name) {
                Some(i) => i,
                None => {
                    missing.push(name.to_string());
                    0
                }
            }
        };
        let id = find(&c.id);
        let received_at = find(&c.received_at);
        let text: Vec<usize> = c.text.names().into_iter().map(&mut find).collect();
        let cols = Cols {
            id,
            received_at,
            text,
            title: c.title.as_deref().map(&mut find),
            closed_at: c.closed_at.as_deref().map(&mut find),
            due_at: c.due_at.as_deref().map(&mut find),
            replied_at: c.replied_at.as_deref().map(&mut find),
            callback_at: c.callback_at.as_deref().map(&mut find),
            request_type: c.request_type.as_deref().map(&mut find),
            category: c.category.as_deref().map(&mut find),
            status: c.status.as_deref().map(&mut find),
            street: c.street.as_deref().map(&mut find),
            community: c.community.as_deref().map(&mut find),
            address: c.address.as_deref().map(&mut find),
            unit: c.unit.as_deref().map(&mut find),
            reply: c.reply.as_deref().map(&mut find),
            callback: c.callback.as_deref().map(&mut find),
            satisfaction: c.satisfaction.as_deref().map(&mut find),
            caller_name: c.caller_name.as_deref().map(&mut find),
            caller_phone: c.caller_phone.as_deref().map(&mut find),
        };
        if !missing.is_empty() {
            bail!(
                "the file lacks column(s) the mapping names: {}; its header has: {}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                header.join(", ")
            );
        }
        Ok(cols)
    }
}
