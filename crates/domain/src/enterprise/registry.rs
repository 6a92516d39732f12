//! The enterprise registry's rules: what a firm's record holds, its 服务包 membership year by
//! year, and its 服务管家 over time. Pure: the store seals the contacts, the app checks the
//! street against the directory and the steward against the accounts.

use super::credit_code::{CreditCode, parse_credit_code};
use crate::error::DomainError;
use crate::model::vocabulary;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

vocabulary! {
    /// 国民经济行业分类 (GB/T 4754-2017) 门类 A–T.
    Industry {
        Agriculture = "agriculture" / "农、林、牧、渔业",
        Mining = "mining" / "采矿业",
        Manufacturing = "manufacturing" / "制造业",
        Utilities = "utilities" / "电力、热力、燃气及水生产和供应业",
        Construction = "construction" / "建筑业",
        Trade = "trade" / "批发和零售业",
        Transport = "transport" / "交通运输、仓储和邮政业",
        Hospitality = "hospitality" / "住宿和餐饮业",
        Information = "information" / "信息传输、软件和信息技术服务业",
        Finance = "finance" / "金融业",
        RealEstate = "real_estate" / "房地产业",
        BusinessServices = "business_services" / "租赁和商务服务业",
        Research = "research" / "科学研究和技术服务业",
        Environment = "environment" / "水利、环境和公共设施管理业",
        ResidentServices = "resident_services" / "居民服务、修理和其他服务业",
        Education = "education" / "教育",
        Health = "health" / "卫生和社会工作",
        Culture = "culture" / "文化、体育和娱乐业",
        PublicAdministration = "public_administration" / "公共管理、社会保障和社会组织",
        International = "international" / "国际组织",
    }
}

impl Industry {
    /// The GB/T 4754 section letter (A–T).
    pub fn section(self) -> char {
        let i = Industry::ALL.iter().position(|x| *x == self).unwrap_or(0);
        (b'A' + i as u8) as char
    }
}

vocabulary! {
    /// 企业规模 (统计上大中小微型企业划分办法).
    Size {
        Large = "large" / "大型",
        Medium = "medium" / "中型",
        Small = "small" / "小型",
        Micro = "micro" / "微型",
    }
}

vocabulary! {
    /// 服务包 tier: which level of government holds the firm's package.
    Tier {
        City = "city" / "市级服务包",
        District = "district" / "区级服务包",
        Street = "street" / "街道服务包",
    }
}

/// One year on the 服务包 list. The list is refreshed yearly, so a membership is valid from
/// 1 January to 31 December of its `year` and never carries over: next year's list must name
/// the firm again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub year: i16,
    pub tier: Tier,
    /// Taken off the list during the year (closed, moved away): not a member from this day.
    #[serde(default)]
    pub removed_on: Option<Date>,
}

impl Membership {
    /// Whether the membership holds on `on`: its year, and not yet removed.
    pub fn is_member(&self, on: Date) -> bool {
        on.year() == self.year && self.removed_on.is_none_or(|r| on < r)
    }
}

/// A steward (服务管家, a user's username) for a period: from `from`, until `to` (exclusive;
/// `None` while current).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StewardAssignment {
    pub steward: String,
    pub from: Date,
    #[serde(default)]
    pub to: Option<Date>,
}

impl StewardAssignment {
    pub fn covers(&self, on: Date) -> bool {
        self.from <= on && self.to.is_none_or(|t| on < t)
    }
}

/// A firm of the registry. Contacts are not here: they are personal information, kept as
/// [`Contact`]s the store seals, and shown masked ([`Contact::masked`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub credit_code: CreditCode,
    pub name: String,
    /// The name people use (`华为`, `小米`): anonymity redacts it from texts as well.
    #[serde(default)]
    pub short_name: Option<String>,
    pub industry: Industry,
    pub size: Size,
    /// The street the firm is in (a street code or name of the directory).
    pub street: String,
    pub address: String,
    #[serde(default)]
    pub founded: Option<Date>,
    #[serde(default)]
    pub employees: Option<u32>,
    #[serde(default)]
    pub memberships: Vec<Membership>,
    #[serde(default)]
    pub stewards: Vec<StewardAssignment>,
}

impl Enterprise {
    /// The 服务包 membership that holds on `on`.
    pub fn membership_on(&self, on: Date) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.is_member(on))
    }
    /// Whether the firm is on the 服务包 list on `on`.
    pub fn is_member(&self, on: Date) -> bool {
        self.membership_on(on).is_some()
    }
    /// The steward on `on`.
    pub fn steward_on(&self, on: Date) -> Option<&str> {
        self.stewards
            .iter()
            .find(|s| s.covers(on))
            .map(|s| s.steward.as_str())
    }
    /// Whether `username` is the firm's steward on `on`.
    pub fn is_steward(&self, username: &str, on: Date) -> bool {
        self.steward_on(on) == Some(username)
    }
}

/// A contact person of a firm (企业联系人). Sealed by the store: name and phone are personal
/// information and are shown masked like a caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// 职务, e.g. "法定代表人", "行政主管".
    #[serde(default)]
    pub position: String,
    pub phone: String,
    /// The leader contact of the 服务包 (包联领导's counterpart at the firm).
    #[serde(default)]
    pub primary: bool,
}

impl Contact {
    /// The contact as roles without a need to know see it: `王**（行政主管）138****5678`.
    pub fn masked(&self) -> String {
        let name = crate::intake::mask_name(&self.name);
        let phone = crate::intake::mask_phone(&self.phone);
        if self.position.is_empty() {
            format!("{name} {phone}")
        } else {
            format!("{name}（{}）{phone}", self.position)
        }
    }
}

/// What registering (or editing) a firm takes, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseInput {
    pub credit_code: String,
    pub name: String,
    #[serde(default)]
    pub short_name: Option<String>,
    pub industry: Industry,
    pub size: Size,
    pub street: String,
    pub address: String,
    #[serde(default)]
    pub founded: Option<Date>,
    #[serde(default)]
    pub employees: Option<u32>,
    #[serde(default)]
    pub memberships: Vec<Membership>,
    #[serde(default)]
    pub stewards: Vec<StewardAssignment>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// A registration validated: the record, and the contacts for the store to seal (phones
/// normalised).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub enterprise: Enterprise,
    pub contacts: Vec<Contact>,
}

/// Most contacts a firm keeps.
pub const MAX_CONTACTS: usize = 10;

fn text(field: &str, v: &str, max: usize) -> Result<String, DomainError> {
    let v = v.trim();
    let n = v.chars().count();
    if n == 0 {
        return Err(DomainError::invalid(field, "empty", "must not be empty"));
    }
    if n > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Validates a registration on `today`. Errors name the field (`credit_code`,
/// `memberships[1].year`, `contacts[0].phone`, …). The street's existence and the stewards'
/// accounts are the caller's to check.
pub fn validate_enterprise(e: &EnterpriseInput, today: Date) -> Result<Registration, DomainError> {
    let credit_code = parse_credit_code(&e.credit_code)?;
    let name = text("name", &e.name, 100)?;
    let short_name = match e.short_name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(text("short_name", s, 30)?),
    };
    let street = text("street", &e.street, 50)?;
    let address = text("address", &e.address, 200)?;
    if let Some(f) = e.founded
        && f > today
    {
        return Err(DomainError::invalid(
            "founded",
            "date_in_future",
            "must not be in the future",
        ));
    }
    if e.employees.is_some_and(|n| n > 10_000_000) {
        return Err(DomainError::invalid(
            "employees",
            "out_of_range",
            "at most 10,000,000",
        ));
    }
    validate_memberships(&e.memberships, today)?;
    validate_stewards(&e.stewards)?;
    if e.contacts.len() > MAX_CONTACTS {
        return Err(DomainError::invalid(
            "contacts",
            "too_many",
            format!("at most {MAX_CONTACTS} contacts"),
        ));
    }
    let mut contacts = Vec::with_capacity(e.contacts.len());
    for (i, c) in e.contacts.iter().enumerate() {
        let name = text(&format!("contacts[{i}].name"), &c.name, 50)?;
        let position = c.position.trim().to_string();
        if position.chars().count() > 30 {
            return Err(DomainError::invalid(
                &format!("contacts[{i}].position"),
                "too_long",
                "at most 30 characters",
            ));
        }
        let phone = crate::intake::normalize_phone(&c.phone).ok_or_else(|| {
            DomainError::invalid(
                &format!("contacts[{i}].phone"),
                "bad_phone",
                "not a Chinese phone number",
            )
        })?;
        contacts.push(Contact {
            name,
            position,
            phone,
            primary: c.primary,
        });
    }
    Ok(Registration {
        enterprise: Enterprise {
            credit_code,
            name,
            short_name,
            industry: e.industry,
            size: e.size,
            street,
            address,
            founded: e.founded,
            employees: e.employees,
            memberships: e.memberships.clone(),
            stewards: e.stewards.clone(),
        },
        contacts,
    })
}

/// One membership per year; a year from 2000 to next year (the list for next year is drawn up
/// in December); a removal inside its year.
pub fn validate_memberships(ms: &[Membership], today: Date) -> Result<(), DomainError> {
    for (i, m) in ms.iter().enumerate() {
        if m.year < 2000 || m.year > today.year() + 1 {
            return Err(DomainError::invalid(
                &format!("memberships[{i}].year"),
                "out_of_range",
                format!("a year from 2000 to {}", today.year() + 1),
            ));
        }
        if ms[..i].iter().any(|o| o.year == m.year) {
            return Err(DomainError::invalid(
                &format!("memberships[{i}].year"),
                "duplicate",
                format!("{} is already listed", m.year),
            ));
        }
        if let Some(r) = m.removed_on
            && r.year() != m.year
        {
            return Err(DomainError::invalid(
                &format!("memberships[{i}].removed_on"),
                "date_out_of_range",
                format!("must fall in {}", m.year),
            ));
        }
    }
    Ok(())
}

/// Each assignment ends after it starts; no two overlap (a firm has one steward at a time).
pub fn validate_stewards(ss: &[StewardAssignment]) -> Result<(), DomainError> {
    for (i, s) in ss.iter().enumerate() {
        text(&format!("stewards[{i}].steward"), &s.steward, 64)?;
        if s.to.is_some_and(|t| t <= s.from) {
            return Err(DomainError::invalid(
                &format!("stewards[{i}].to"),
                "bad_range",
                "must be after from",
            ));
        }
        let overlaps = |o: &StewardAssignment| {
            let a_end = s.to.unwrap_or(Date::MAX);
            let b_end = o.to.unwrap_or(Date::MAX);
            s.from < b_end && o.from < a_end
        };
        if ss[..i].iter().any(overlaps) {
            return Err(DomainError::invalid(
                &format!("stewards[{i}].from"),
                "steward_overlap",
                "overlaps another steward's period",
            ));
        }
    }
    Ok(())
}

/// Hands the firm to `steward` from `on`: the current assignment ends on `on`, a new one
/// starts. Refused (`same_steward`) when `steward` already holds it; an assignment starting
/// after `on` is refused too (`steward_overlap`), since history is not rewritten.
pub fn reassign_steward(
    current: &[StewardAssignment],
    steward: &str,
    on: Date,
) -> Result<Vec<StewardAssignment>, DomainError> {
    let steward = text("steward", steward, 64)?;
    if current.iter().any(|s| s.covers(on) && s.steward == steward) {
        return Err(DomainError::refused(
            "same_steward",
            format!("{steward} is already the steward"),
        ));
    }
    if current.iter().any(|s| s.from > on) {
        return Err(DomainError::invalid(
            "from",
            "steward_overlap",
            "a later assignment exists",
        ));
    }
    let mut out: Vec<StewardAssignment> = current.to_vec();
    for s in &mut out {
        if s.covers(on) {
            s.to = Some(on);
        }
    }
    out.retain(|s| s.to.is_none_or(|t| t > s.from));
    out.push(StewardAssignment {
        steward,
        from: on,
        to: None,
    });
    Ok(out)
}

/// What the yearly refresh of the 服务包 list changes, firm by firm (credit codes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshDiff {
    /// On the new list, not on the old.
    pub joined: Vec<(CreditCode, Tier)>,
    /// On the old list, not on the new: their membership simply lapses with the year.
    pub left: Vec<CreditCode>,
    /// On both, with another tier: (code, old, new).
    pub retiered: Vec<(CreditCode, Tier, Tier)>,
    /// On both with the same tier.
    pub kept: usize,
}

/// Compares last year's list with the new one (each a firm's code and tier), so the admin sees
/// what the refresh does before the new year's memberships are written.
pub fn refresh_diff(old: &[(CreditCode, Tier)], new: &[(CreditCode, Tier)]) -> RefreshDiff {
    let mut d = RefreshDiff::default();
    for (code, tier) in new {
        match old.iter().find(|(c, _)| c == code) {
            None => d.joined.push((code.clone(), *tier)),
            Some((_, t)) if t != tier => d.retiered.push((code.clone(), *t, *tier)),
            Some(_) => d.kept += 1,
        }
    }
    for (code, _) in old {
        if !new.iter().any(|(c, _)| c == code) {
            d.left.push(code.clone());
        }
    }
    d
}
