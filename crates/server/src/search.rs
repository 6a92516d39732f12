//! The full-text index lives in the application layer (`jiesu_app::search`); re-exported for
//! the server's callers.

pub use jiesu_app::search::*;
