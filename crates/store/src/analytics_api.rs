//! The `Store` face of the 主动治理 analytics queries (written once in `analytics.rs`, compiled
//! per backend).

use crate::{Result, Store, ts};
use jiesu_domain::analytics::{AnswerCount, DueRequest, Evidence, PlaceCount};
use jiff::Timestamp;

impl Store {
    /// When the first request on record was received, if any.
    pub async fn history_start(&self) -> Result<Option<Timestamp>> {
        let first: Option<i64> = delegate!(self.history_start())?;
        first.map(ts).transpose()
    }

    /// Requests received in [start, end) per (category, street, community).
    pub async fn place_counts(&self, start: Timestamp, end: Timestamp) -> Result<Vec<PlaceCount>> {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        delegate!(self.place_counts(s, e))
    }

    /// Satisfaction answers (and 不满意) of callbacks recorded in [start, end), per place.
    pub async fn callback_answers(
        &self,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<AnswerCount>> {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        delegate!(self.callback_answers(s, e))
    }

    /// A sample (oldest first, at most `limit`) of one cell's requests in [start, end).
    pub async fn cell_requests(
        &self,
        start: Timestamp,
        end: Timestamp,
        category: &str,
        street: Option<&str>,
        community: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Evidence>> {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        delegate!(self.cell_requests(s, e, category, street, community, limit))
    }

    /// How many requests were received in [start, end).
    pub async fn received_count(&self, start: Timestamp, end: Timestamp) -> Result<u64> {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        delegate!(self.received_count(s, e))
    }

    /// Texts of the requests received in [start, end) (keyword trends).
    pub async fn request_texts(&self, start: Timestamp, end: Timestamp) -> Result<Vec<String>> {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        delegate!(self.request_texts(s, e))
    }

    /// Requests due in [start, end) and not replied by their deadline (overdue list).
    pub async fn due_unreplied(&self, start: Timestamp, end: Timestamp) -> Result<Vec<DueRequest>> {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        delegate!(self.due_unreplied(s, e))
    }
}
