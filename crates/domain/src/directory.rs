//! Fast lookups over the world: which unit, category, street and community a code names.

use crate::calendar::WorkCalendar;
use jiesu_world::{Category, Community, SlaClass, Street, Unit, UnitKind, World};
use std::collections::HashMap;

/// The world indexed by code, with its working calendar. Built once at start-up and shared.
#[derive(Debug)]
pub struct Directory {
    pub world: World,
    pub calendar: WorkCalendar,
    units: HashMap<String, usize>,
    categories: HashMap<String, usize>,
    streets: HashMap<String, usize>,
    communities: HashMap<String, usize>,
    sla_classes: HashMap<String, usize>,
    leaf: HashMap<String, bool>,
}

fn index<T>(items: &[T], code: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, x)| (code(x).to_string(), i))
        .collect()
}

impl Directory {
    pub fn new(world: World) -> Self {
        let calendar = WorkCalendar::new(world.holidays.clone(), &world.district.time_zone);
        let units = index(&world.units, |u| &u.code);
        let categories = index(&world.categories, |c| &c.code);
        let streets = index(&world.streets, |s| &s.code);
        let communities = index(&world.communities, |c| &c.code);
        let sla_classes = index(&world.sla.classes, |c| &c.code);
        let mut leaf: HashMap<String, bool> = world
            .categories
            .iter()
            .map(|c| (c.code.clone(), true))
            .collect();
        for c in &world.categories {
            if let Some(p) = &c.parent {
                leaf.insert(p.clone(), false);
            }
        }
        Directory {
            world,
            calendar,
            units,
            categories,
            streets,
            communities,
            sla_classes,
            leaf,
        }
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.get(code).map(|&i| &self.world.units[i])
    }
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories
            .get(code)
            .map(|&i| &self.world.categories[i])
    }
    pub fn is_leaf_category(&self, code: &str) -> bool {
        self.leaf.get(code).copied().unwrap_or(false)
    }
    pub fn street(&self, code: &str) -> Option<&Street> {
        self.streets.get(code).map(|&i| &self.world.streets[i])
    }
    pub fn community(&self, code: &str) -> Option<&Community> {
        self.communities
            .get(code)
            .map(|&i| &self.world.communities[i])
    }
    pub fn sla_class(&self, code: &str) -> Option<&SlaClass> {
        self.sla_classes
            .get(code)
            .map(|&i| &self.world.sla.classes[i])
    }
    /// The street office that serves a street.
    pub fn street_office(&self, street_code: &str) -> Option<&Unit> {
        self.world
            .units
            .iter()
            .find(|u| u.kind == UnitKind::Street && u.street_code.as_deref() == Some(street_code))
    }
    /// Whether `unit` covers a request located in `street`: a street office only its own
    /// street; departments and utilities the whole district. An unknown unit or a request
    /// without a street is not judged here (the engine refuses unknown units).
    pub fn covers(&self, unit: &str, street: Option<&str>) -> bool {
        match (self.unit(unit), street) {
            (Some(u), Some(s)) if u.kind == UnitKind::Street => u.street_code.as_deref() == Some(s),
            _ => true,
        }
    }
    /// The top-level ancestor of a category (for grouping in reports).
    pub fn top_category<'a>(&'a self, code: &'a str) -> &'a str {
        let mut cur = code;
        for _ in 0..16 {
            match self.category(cur).and_then(|c| c.parent.as_deref()) {
                Some(p) => cur = p,
                None => break,
            }
        }
        cur
    }
}
