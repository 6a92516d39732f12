//! The signature scheme webhook receivers check: one implementation in `jiesu_app::sign`, which
//! also checks what device vendors' platforms sign.
pub use jiesu_app::sign::*;
