//! `jiesu import`: requests from another platform's CSV export, through a TOML column mapping.
//!
//! Each good row becomes one request with the event history the file supports:
//!
//! * `Received` at the received time (always), validated by the domain's intake rules.
//! * `Dispatched` at the received time to the mapped unit (only if the row names a unit we can
//!   resolve). The deadlines are decided by the domain (`decide`, our SLA); when the file carries
//!   a due date it replaces the completion deadline, because that is the deadline the source
//!   platform actually held the unit to. The file has no dispatch time, so the received time is
//!   used; this is the one reconstructed timestamp.
//! * `Replied` with the file's reply text at the reply time (or, without a reply-time column, the
//!   closed time). Stamped directly: the domain would refuse a reply without 签收/联系 and the
//!   file does not record those, so we write what the file says rather than invent them.
//! * `CallbackRecorded` from the callback-result (and satisfaction) columns at the callback time
//!   (or the closed time).
//! * `Closed` at the closed time when the row is closed. After a callback the outcome follows the
//!   domain's rule (`decide`); otherwise it is `resolved` with a reason saying the source closed
//!   it without recording an outcome.
//!
//! Flaws are reported, never fixed: a row closed before it was received is rejected with the
//! row, column, value and reason; softer oddities are warnings. Every request carries the
//! idempotency key `import:<source>:<id>`, checked in bulk before each chunk is written, so
//! importing a file twice changes nothing. Rows are streamed and written in chunks, one
//! transaction per chunk.
//!
//! Where things live:
//!
//! * `mapping`: the TOML mapping file (`Mapping` and its sections) and what it resolves
//!   against: the world's names and codes (`Names`) and the header positions (`Cols`).
//! * `decoding`: encoding sniffing, the streaming GBK decoder, one record's cells (`Rec`).
//! * `sources`: where rows come from: CSV or an XLSX worksheet (`Rows`).
//! * `building`: one row turned into a request with its event log (`Importer`, `Built`).
//! * `running`: the run itself (`run`, `Args`), chunked writes and the `Report`; the tests.

mod building;
mod decoding;
mod mapping;
mod running;
mod sources;

// Every public item keeps its pre-split path `crate::import::X`; not all are named outside
// the module today, hence the allow.
#[allow(unused_imports)]
pub use mapping::{Columns, Defaults, Mapping, OneOrMany, Values};
pub use running::{Args, DEFAULT_CHUNK, run};
#[allow(unused_imports)]
pub use running::{DueStats, Report, RowIssue, SlaStats};
