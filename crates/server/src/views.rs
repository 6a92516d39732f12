//! The request views live in the application layer (`jiesu_app::views`), shared with the CLI's
//! exports; re-exported for the doors.

pub use jiesu_app::views::*;
