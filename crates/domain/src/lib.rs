//! jiesu-domain
