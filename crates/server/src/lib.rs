//! jiesu-server
