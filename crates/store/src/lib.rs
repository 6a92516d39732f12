//! jiesu-store
