//! 七有五性 (issue 17): indicators as data (formula over the platform's own records or an
//! imported statistic, a target, a target year, a baseline) and progress by the Open SDG
//! method. Pure rules; the app computes the inputs from the store.
//!
//! - [`definition`]: the twelve indices, an indicator as data, a catalogue and its validation.
//! - [`catalogue`]: the default catalogue (30 indicators, all twelve indices).
//! - [`progress`](mod@progress): the Open SDG / Statistics Canada progress measure.
//! - [`import`]: imported statistics from CSV, bad rows reported by row and field.
//! - [`rates`]: ratios, percents and per-1,000 rates without NaN.
//! - [`series`]: observations by period and street; yearly series; street comparison.

pub mod catalogue;
pub mod definition;
pub mod import;
pub mod progress;
pub mod rates;
pub mod series;

pub use catalogue::default_catalogue;
pub use definition::{Catalogue, Direction, Index, Indicator, Point, Source, parse_catalogue};
pub use import::{Import, ImportedRow, Period, RowError, parse_import_csv};
pub use progress::{Assessment, ProgressStatus, assess, progress};
