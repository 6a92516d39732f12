//! One module per subcommand with a body: `main.rs` parses the command line and dispatches
//! here. Subcommands whose work already lives in a module of its own (`bench`, `report`,
//! `rollup`) are called from `main.rs` directly.

pub mod audit;
pub mod backup;
pub mod care;
pub mod childcare;
pub mod demo;
pub mod device;
pub mod export;
pub mod import;
pub mod keys;
pub mod migrate;
pub mod open311;
pub mod reindex;
pub mod serve;
pub mod sla;
pub mod text;
pub mod train;
pub mod user;
pub mod world;
