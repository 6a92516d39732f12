//! The default catalogue: 30 indicators across the twelve indices, 23 computed from the
//! platform's own records by the formulas of [`FORMULAS`](super::definition::FORMULAS) and 7
//! imported statistics. Baselines and targets are illustrative placeholders for the demo, to
//! be replaced by the district's own (the app loads `world/xicheng/indicators.*` when present).

use super::definition::{Catalogue, formula_ids, parse_catalogue};

/// The default catalogue as its file: one indicator per line.
pub const DEFAULT_CATALOGUE_JSON: &str = include_str!("default_catalogue.json");

/// The default catalogue, parsed and validated against [`FORMULAS`](super::definition::FORMULAS).
pub fn default_catalogue() -> Catalogue {
    parse_catalogue(DEFAULT_CATALOGUE_JSON, &formula_ids())
        .expect("the default catalogue is valid (a unit test checks it)")
}
