//! The deployment's world as data: regions, units, the category tree, the SLA policy, the
//! working calendar's holidays and the assessment weights. Loaded from a folder of CSV/TOML files
//! (see `world/xicheng/`), validated with file:line precise errors, never compiled in.
//!
//! This crate only describes and validates configuration; the rules that use it (deadlines,
//! routing, scores) live in `jiesu-domain`.

mod error;
mod load;
mod parse;
mod table;

pub use error::{Field, WorldError, WorldErrors};
pub use load::{
    CATEGORIES_FILE, COMMUNITIES_FILE, DISTRICT_FILE, HOLIDAYS_DIR, PLACES_FILE, SLA_FILE,
    STREETS_FILE, UNITS_FILE, WEIGHTS_FILE, WorldSources, add_places, load_dir, load_sources,
    read_sources,
};
pub use parse::{
    parse_categories_csv, parse_communities_csv, parse_district_toml, parse_holiday_csv,
    parse_holiday_files, parse_places_csv, parse_sla_toml, parse_streets_csv, parse_units_csv,
    parse_weights_toml,
};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A span of time a deadline is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Calendar hours, 24/7 (emergencies, water/power/gas/heat).
    Hours(u32),
    /// Working days on the Chinese calendar: ends 23:59:59 local on the Nth working day strictly
    /// after the start's local date.
    WorkingDays(u32),
}

/// 区 the district itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub code: String,
    pub name: String,
    pub population: u64,
    /// IANA zone all local dates are reckoned in (Asia/Shanghai).
    pub time_zone: String,
    /// Mask mobile, landline and ID numbers written into a request's text and title before it
    /// is stored (条例 Art.8). The caller's own number has its field, shown only to roles that
    /// need it; a number typed into the text would otherwise reach every reader.
    #[serde(default)]
    pub mask_numbers_in_text: bool,
    /// What an account's password must be (等保 身份鉴别); `[passwords]` in district.toml.
    #[serde(default)]
    pub passwords: PasswordPolicy,
    /// The audit chain's hash function for new rows: `sha256` (default) or `sm3` (密评).
    #[serde(default = "default_audit_hash")]
    pub audit_hash: String,
    /// What the public Open311 read side may show; `[publication]` in district.toml.
    #[serde(default)]
    pub publication: Publication,
}

/// The channel codes a request can arrive through (the domain's `Channel`, which this crate
/// cannot name; a test in jiesu-app keeps the two lists equal).
pub const CHANNELS: &[&str] = &[
    "hotline",
    "web",
    "app",
    "open311",
    "device",
    "enterprise",
    "import",
];

/// The district's publication policy for the public Open311 read side. Which categories may
/// be published is the `public` column of categories.csv (see [`World::category_is_public`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Publication {
    /// Channels whose requests may be published. By default only the doors where citizens
    /// write for themselves (Open311 and the web portal): a caller who phoned 12345 never
    /// agreed to publication, and device alarms and imports are not citizens' words.
    pub channels: Vec<String>,
    /// How much of the location is shown.
    pub address: AddressPrecision,
    /// How much of the request's text is shown.
    pub text: TextRule,
}

impl Default for Publication {
    fn default() -> Self {
        Publication {
            channels: vec!["open311".into(), "web".into()],
            address: AddressPrecision::Community,
            text: TextRule::Redacted,
        }
    }
}

impl Publication {
    /// Whether requests of `channel` (a [`CHANNELS`] code) may be published.
    pub fn publishes_channel(&self, channel: &str) -> bool {
        self.channels.iter().any(|c| c == channel)
    }
}

/// How precisely a published request's location is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressPrecision {
    /// The address as filed, with its coordinates.
    Full,
    /// The address cut after the building (号 / 号院 / 号楼), no unit, floor or flat; the
    /// coordinates rounded to about 100 m.
    Building,
    /// The street and community names only, no coordinates.
    #[default]
    Community,
    /// The street name only.
    Street,
    /// No location at all.
    None,
}

impl AddressPrecision {
    pub const ALL: &'static [AddressPrecision] = &[
        AddressPrecision::Full,
        AddressPrecision::Building,
        AddressPrecision::Community,
        AddressPrecision::Street,
        AddressPrecision::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AddressPrecision::Full => "full",
            AddressPrecision::Building => "building",
            AddressPrecision::Community => "community",
            AddressPrecision::Street => "street",
            AddressPrecision::None => "none",
        }
    }
}

/// How much of a published request's text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextRule {
    /// The text as stored (the caller's own name and number still masked).
    Full,
    /// Phone, ID-card, e-mail, plate, long digit runs and house/flat numbers masked.
    #[default]
    Redacted,
    /// No text: only the service, status and dates are published.
    None,
}

impl TextRule {
    pub const ALL: &'static [TextRule] = &[TextRule::Full, TextRule::Redacted, TextRule::None];

    pub fn as_str(self) -> &'static str {
        match self {
            TextRule::Full => "full",
            TextRule::Redacted => "redacted",
            TextRule::None => "none",
        }
    }
}

fn default_audit_hash() -> String {
    "sha256".into()
}

/// The password rules of a deployment. The checks themselves are the domain's
/// (`jiesu_domain::password`); a well-known weak list is built in beside `weak`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Fewest characters.
    pub min_length: u32,
    /// Of lower case, upper case, digits and other characters, how many kinds must appear.
    pub min_classes: u32,
    /// Refuse a password that contains the username (ignoring case).
    pub forbid_username: bool,
    /// More passwords to refuse (ignoring case), beside the built-in list.
    pub weak: Vec<String>,
    /// Days a password lasts before its holder must change it; 0 for never.
    pub max_age_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 10,
            min_classes: 3,
            forbid_username: true,
            weak: Vec::new(),
            max_age_days: 0,
        }
    }
}

/// 街道 a street (sub-district).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Street {
    /// 9-digit NBS code, e.g. 110102001.
    pub code: String,
    pub name: String,
    pub population: u64,
}

/// 社区 a community under a street.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// 12-digit NBS code.
    pub code: String,
    pub name: String,
    pub street_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 街道办事处 a street office.
    Street,
    /// 区委办局 a district department.
    Department,
    /// 公共服务企业 a utility (heat, gas, water, power).
    Utility,
    /// 服务商 a service provider.
    Provider,
}

/// 承办单位 a unit that handles requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable ASCII code: a street office uses its street's NBS code, others an English slug.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    /// For a street office, the street it serves.
    pub street_code: Option<String>,
}

/// Who handles a category by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "unit")]
pub enum Responsible {
    /// The street office of the street the request is located in.
    Street,
    /// A named unit (department or utility).
    Unit(String),
}

/// A node in the category tree. Leaves (no children) carry routing and SLA defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    /// Set on leaves.
    pub responsible: Option<Responsible>,
    /// Code of an SLA class; set on leaves.
    pub sla_class: Option<String>,
    /// Words that suggest this category (used by rules and the lexicon).
    pub keywords: Vec<String>,
    /// May requests of this category be published (Open311 read side)? `None` inherits from
    /// the parent; a root with none is private (see [`World::category_is_public`]).
    #[serde(default)]
    pub public: Option<bool>,
}

/// A deadline class: how long to respond (签收 + first contact) and to complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaClass {
    pub code: String,
    pub name: String,
    pub response: Span,
    pub completion: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub classes: Vec<SlaClass>,
    /// Class used for requests flagged urgent/emergency regardless of category.
    pub emergency_class: String,
    /// Class used when a category names none.
    pub default_class: String,
    /// Fraction of the allowed time after which a warning is raised (e.g. 0.8).
    pub warning_ratio: f64,
    /// Response clock for a department called in by 吹哨.
    pub whistle_response: Span,
    /// Time the callback (回访) must happen within after the reply.
    pub callback: Span,
    /// Longest extension (延期) one approval may grant.
    pub max_extension: Span,
}

/// How a callback's satisfaction answer is scored, and the composite's weights (percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentWeights {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
    /// Score of 满意 / 基本满意 / 不满意 on a 0–100 scale.
    pub satisfied_score: f64,
    pub basically_satisfied_score: f64,
    pub unsatisfied_score: f64,
}

/// What is wrong with a set of weights: the one rule for the file and every editor.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightProblem {
    /// A weight (`response`, `resolution`, `satisfaction`) is negative or not a number.
    BadWeight(&'static str, f64),
    /// The three weights do not sum to 100.
    SumNot100(f64),
    /// A score (`satisfied_score` …) is outside 0–100.
    BadScore(&'static str, f64),
    /// 满意 ≥ 基本满意 ≥ 不满意 does not hold.
    ScoresOutOfOrder,
}

impl AssessmentWeights {
    /// Every rule the weights break (none: they may be used).
    pub fn problems(&self) -> Vec<WeightProblem> {
        let mut out = Vec::new();
        let weights = [
            ("response", self.response),
            ("resolution", self.resolution),
            ("satisfaction", self.satisfaction),
        ];
        let mut weights_ok = true;
        for (key, w) in weights {
            if !(w.is_finite() && w >= 0.0) {
                weights_ok = false;
                out.push(WeightProblem::BadWeight(key, w));
            }
        }
        let sum: f64 = weights.iter().map(|(_, w)| w).sum();
        if weights_ok && (sum - 100.0).abs() > 0.001 {
            out.push(WeightProblem::SumNot100(sum));
        }
        let scores = [
            ("satisfied_score", self.satisfied_score),
            ("basically_satisfied_score", self.basically_satisfied_score),
            ("unsatisfied_score", self.unsatisfied_score),
        ];
        let mut scores_ok = true;
        for (key, s) in scores {
            if !(0.0..=100.0).contains(&s) {
                scores_ok = false;
                out.push(WeightProblem::BadScore(key, s));
            }
        }
        if scores_ok
            && !(self.satisfied_score >= self.basically_satisfied_score
                && self.basically_satisfied_score >= self.unsatisfied_score)
        {
            out.push(WeightProblem::ScoresOutOfOrder);
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off that would otherwise be a working day (or a weekend inside a break).
    Holiday,
    /// 调休: a Saturday or Sunday that is a working day.
    MakeupWorkday,
}

/// Statutory holidays and makeup workdays, one file a year (`date,name,kind`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HolidayTable {
    pub days: BTreeMap<Date, (DayKind, String)>,
    /// Years that have a file; outside them the calendar is a plain week (with a warning).
    pub years: std::collections::BTreeSet<i16>,
}

/// What kind of named place a gazetteer row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    /// 道路 a road or street (大街, 路).
    Road,
    /// 胡同 a hutong or lane (胡同, 条, 巷, 斜街).
    Hutong,
    /// 小区 a residential compound (小区, 里, 院, 园).
    Compound,
    /// 地标 a landmark (park, temple, market, station).
    Landmark,
    /// 片区 an informally named area.
    Area,
}

/// 地名 a gazetteer entry: a road, hutong, compound or landmark and the street (and, when the
/// whole place lies in one, the community) it belongs to. Used to resolve addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    pub kind: PlaceKind,
    pub street_code: String,
    pub community_code: Option<String>,
}

/// The whole deployment world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub district: District,
    pub streets: Vec<Street>,
    pub communities: Vec<Community>,
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    pub sla: SlaPolicy,
    pub holidays: HolidayTable,
    pub weights: AssessmentWeights,
    /// Gazetteer from the optional `places.csv`; worlds saved before it existed have none.
    #[serde(default)]
    pub places: Vec<Place>,
    /// Elder-care subsidy amounts from the optional `care.toml`; Beijing's when absent.
    #[serde(default)]
    pub care: CareRules,
}

/// 养老助餐 subsidy amounts (北京市 2022 养老助餐实施意见), in fen, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareRules {
    /// Deducted from an eligible elder's bill once a day when the bill is above it.
    pub elder_meal_subsidy_fen: i64,
    /// Paid to the meal point per actual diner per day.
    pub point_operating_subsidy_fen: i64,
}

impl Default for CareRules {
    fn default() -> Self {
        CareRules {
            elder_meal_subsidy_fen: 500,
            point_operating_subsidy_fen: 300,
        }
    }
}

impl SlaPolicy {
    /// The class with this code.
    pub fn class(&self, code: &str) -> Option<&SlaClass> {
        self.classes.iter().find(|c| c.code == code)
    }
}

impl HolidayTable {
    /// How the table marks `date`, if at all (unlisted weekdays work, unlisted weekends rest).
    pub fn day(&self, date: Date) -> Option<DayKind> {
        self.days.get(&date).map(|(kind, _)| *kind)
    }

    /// Whether a holiday file was loaded for `year`; outside such years the calendar is only
    /// a plain week and callers should warn.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains(&year)
    }
}

// Lookups scan the vectors: a district has a few hundred rows at most, and keeping `World`
// plain data lets other crates build and compare it freely.
impl World {
    pub fn street(&self, code: &str) -> Option<&Street> {
        self.streets.iter().find(|s| s.code == code)
    }

    pub fn community(&self, code: &str) -> Option<&Community> {
        self.communities.iter().find(|c| c.code == code)
    }

    /// The communities of a street, in file order.
    pub fn communities_of<'a>(
        &'a self,
        street_code: &'a str,
    ) -> impl Iterator<Item = &'a Community> {
        self.communities
            .iter()
            .filter(move |c| c.street_code == street_code)
    }

    /// The street a community belongs to.
    pub fn street_of_community(&self, community_code: &str) -> Option<&Street> {
        self.community(community_code)
            .and_then(|c| self.street(&c.street_code))
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.code == code)
    }

    /// 街道办事处 the office serving a street.
    pub fn street_office(&self, street_code: &str) -> Option<&Unit> {
        self.units
            .iter()
            .find(|u| u.kind == UnitKind::Street && u.street_code.as_deref() == Some(street_code))
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// Direct children of a category, in file order.
    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a Category> {
        self.categories
            .iter()
            .filter(move |c| c.parent.as_deref() == Some(code))
    }

    /// Top-level categories, in file order.
    pub fn root_categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(|c| c.parent.is_none())
    }

    /// Whether an existing category has no children (requests are filed on leaves).
    pub fn is_leaf(&self, code: &str) -> bool {
        self.category(code).is_some() && self.children(code).next().is_none()
    }

    /// Leaf categories, in file order.
    pub fn leaf_categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(|c| {
            !self
                .categories
                .iter()
                .any(|o| o.parent.as_ref() == Some(&c.code))
        })
    }

    /// The category and its ancestors, root first (e.g. 供暖 › 室温不达标). Empty if unknown.
    pub fn category_path(&self, code: &str) -> Vec<&Category> {
        let mut path = Vec::new();
        let mut current = self.category(code);
        while let Some(category) = current {
            // A validated world has no cycles; the bound only guards hand-built ones.
            if path.len() > self.categories.len() {
                break;
            }
            path.push(category);
            current = category.parent.as_deref().and_then(|p| self.category(p));
        }
        path.reverse();
        path
    }

    /// The unit a request of `category_code` located in `street_code` goes to by default:
    /// the street's office for `Responsible::Street`, otherwise the named unit. `None` when the
    /// category is unknown or not a leaf, or the street has no office.
    pub fn route(&self, category_code: &str, street_code: &str) -> Option<&Unit> {
        match self.category(category_code)?.responsible.as_ref()? {
            Responsible::Street => self.street_office(street_code),
            Responsible::Unit(code) => self.unit(code),
        }
    }

    /// Whether requests of `category_code` may be published: the nearest `public` value on
    /// the way from the category to its root. Unset all the way up, or an unknown category,
    /// is private: a category added later is not published until the district decides, and
    /// a world stored before the flag existed publishes nothing.
    pub fn category_is_public(&self, category_code: &str) -> bool {
        self.category_path(category_code)
            .iter()
            .rev()
            .find_map(|c| c.public)
            .unwrap_or(false)
    }

    /// The SLA class of a category, falling back to the policy's default class.
    pub fn sla_class_of(&self, category_code: &str) -> Option<&SlaClass> {
        let named = self
            .category(category_code)
            .and_then(|c| c.sla_class.as_deref())
            .and_then(|code| self.sla.class(code));
        named.or_else(|| self.sla.class(&self.sla.default_class))
    }

    /// The class used for urgent requests.
    pub fn emergency_class(&self) -> Option<&SlaClass> {
        self.sla.class(&self.sla.emergency_class)
    }
}
