//! jiesu-text
