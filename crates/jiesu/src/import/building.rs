//! Turning one row into a request: the `Importer` checks and resolves the cells and builds
//! the event log (`Log`), returning a `Built`.

use super::decoding::Rec;
use super::mapping::{Cols, Mapping, Names};
use super::running::RowIssue;
use anyhow::Result;
use jiesu_domain::commands::{optional_text, warn_instant};
use jiesu_domain::intake::IntakeInput;
use jiesu_domain::{
    Actor, Channel, CloseOutcome, Command, Ctx, Directory, DomainError, Event, EventKind, NewEvent,
    RequestState, RequestType, Role, Satisfaction, Status,
};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// A row turned into a request.
pub(super) struct Built {
    pub(super) key: String,
    pub(super) st: RequestState,
    pub(super) events: Vec<Event>,
    pub(super) file_due: Option<Timestamp>,
}

pub(super) struct Importer<'a> {
    pub(super) m: &'a Mapping,
    /// The file's header, for naming columns in messages.
    pub(super) header: &'a [String],
    pub(super) dir: &'a Directory,
    pub(super) names: Names,
    pub(super) cols: Cols,
    pub(super) tz: TimeZone,
    pub(super) actor: Actor,
    pub(super) now: Timestamp,
}

/// The role a decision is checked against; the event is then stamped with the import actor,
/// since no person did it.
fn deciding(role: Role) -> Actor {
    Actor {
        user_id: None,
        username: "import".into(),
        role,
        unit: None,
    }
}

impl Importer<'_> {
    pub(super) fn header_name(&self, col: usize) -> Option<String> {
        self.header.get(col).cloned()
    }

    /// An XLSX date-time cell as text the time parser accepts: RFC 3339 in the mapping's zone
    /// (unambiguous whatever its formats say), or for a due date at midnight the first date
    /// format, so it keeps the date-only meaning (end of that day).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn render_datetime(
        &self,
        col: usize,
        y: i16,
        mo: i8,
        d: i8,
        h: i8,
        mi: i8,
        s: i8,
    ) -> Option<String> {
        let dt = DateTime::new(y, mo, d, h, mi, s, 0).ok()?;
        if self.cols.due_at == Some(col)
            && (h, mi, s) == (0, 0, 0)
            && let Some(f) = self.m.date_formats.first()
        {
            return Some(dt.date().strftime(f).to_string());
        }
        let z = dt.to_zoned_datetime(self.tz.clone()).ok()?;
        Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
    }

    fn parse_time(&self, s: &str, date_only_ok: bool) -> Option<Timestamp> {
        for f in &self.m.time_formats {
            if let Ok(dt) = DateTime::strptime(f, s)
                && let Ok(z) = dt.to_zoned_datetime(self.tz.clone())
            {
                return Some(z.timestamp());
            }
        }
        // RFC 3339 with an offset is unambiguous whatever the mapping says.
        if let Ok(t) = s.parse::<Timestamp>() {
            return Some(t);
        }
        if date_only_ok {
            for f in &self.m.date_formats {
                if let Ok(d) = Date::strptime(f, s)
                    && let Ok(z) = d.at(23, 59, 59, 0).to_zoned_datetime(self.tz.clone())
                {
                    return Some(z.timestamp());
                }
            }
        }
        None
    }

    fn time(
        &self,
        r: &Rec,
        col: Option<usize>,
        date_only_ok: bool,
    ) -> Result<Option<Timestamp>, RowIssue> {
        match r.get(col) {
            None => Ok(None),
            Some(v) => self.parse_time(v, date_only_ok).map(Some).ok_or_else(|| {
                r.issue(
                    col,
                    "bad_time",
                    format!(
                        "not a time in the formats {:?} (zone {})",
                        self.m.time_formats, self.m.time_zone
                    ),
                )
            }),
        }
    }

    /// Builds one request, or the reason the row is rejected. Warnings go to `warn`.
    pub(super) fn build(&self, r: &Rec, warn: &mut Vec<RowIssue>) -> Result<Built, RowIssue> {
        // Replacement characters mean bytes the encoding could not decode: the text is damaged.
        for (i, c) in r.cells.iter().enumerate() {
            if c.contains('\u{FFFD}') {
                warn.push(r.issue(
                    Some(i),
                    "undecodable_bytes",
                    "bytes not valid in the file's encoding were replaced by �",
                ));
            }
        }
        let c = &self.cols;
        let id = r
            .get(Some(c.id))
            .ok_or_else(|| r.issue(Some(c.id), "missing_id", "the id is empty"))?;
        let received = self.time(r, Some(c.received_at), false)?.ok_or_else(|| {
            r.issue(
                Some(c.received_at),
                "missing_received_at",
                "the received time is empty",
            )
        })?;
        let closed_at = self.time(r, c.closed_at, false)?;
        let due = self.time(r, c.due_at, true)?;
        let replied_at = self.time(r, c.replied_at, false)?;
        let callback_at = self.time(r, c.callback_at, false)?;

        // Time order: a request cannot end before it began. Rejected, never reordered.
        for (t, col, what) in [
            (closed_at, c.closed_at, "closed"),
            (replied_at, c.replied_at, "replied"),
            (callback_at, c.callback_at, "called back"),
        ] {
            if let Some(t) = t
                && t < received
            {
                return Err(r.issue(
                    col,
                    &format!("{}_before_received", what.replace(' ', "_")),
                    format!(
                        "{what} at {t} before it was received at {received} (`{}`)",
                        r.get(Some(c.received_at)).unwrap_or_default()
                    ),
                ));
            }
        }
        if let Some(d) = due
            && d < received
        {
            warn.push(r.issue(
                c.due_at,
                "due_before_received",
                "the due date precedes the received time; kept as the file says",
            ));
        }

        let text = {
            let parts: Vec<&str> = c.text.iter().filter_map(|&i| r.get(Some(i))).collect();
            parts.join(&self.m.text_joiner)
        };
        let request_type = match r.get(c.request_type) {
            Some(v) => {
                let code = self.m.values.request_type.get(v).map_or(v, String::as_str);
                code.parse::<RequestType>()
                    .map_err(|_| {
                        r.issue(
                            c.request_type,
                            "unknown_request_type",
                            "not in [values.request_type] nor one of our request types",
                        )
                    })?
                    .as_str()
                    .to_string()
            }
            None => self.m.defaults.request_type.clone().ok_or_else(|| {
                r.issue(
                    c.request_type,
                    "missing_request_type",
                    "no request type and no [defaults] request_type",
                )
            })?,
        };
        let category = match r.get(c.category) {
            None => None,
            Some(v) => match self
                .m
                .values
                .category
                .get(v)
                .or_else(|| self.names.categories.get(v))
            {
                Some(code) => Some(code.clone()),
                None => {
                    if self.m.defaults.category.is_none() {
                        warn.push(r.issue(
                            c.category,
                            "unmapped_category",
                            "not in [values.category]; left without a category",
                        ));
                    }
                    self.m.defaults.category.clone()
                }
            },
        };
        let street = match r.get(c.street) {
            None => None,
            Some(v) => match self
                .m
                .values
                .street
                .get(v)
                .or_else(|| self.names.streets.get(v))
            {
                Some(code) => Some(code.clone()),
                None => {
                    warn.push(r.issue(c.street, "unknown_street", "no such street; left empty"));
                    None
                }
            },
        };
        let community = match r.get(c.community) {
            None => None,
            Some(v) => {
                let found = self.m.values.community.get(v).cloned().or_else(|| {
                    street
                        .as_ref()
                        .and_then(|s| self.names.communities.get(&(s.clone(), v.to_string())))
                        .cloned()
                        .or_else(|| self.names.communities_any.get(v).cloned().flatten())
                });
                if found.is_none() {
                    warn.push(r.issue(
                        c.community,
                        "unknown_community",
                        "no such community (in this street); left empty",
                    ));
                }
                found
            }
        };
        let input = IntakeInput {
            request_type,
            channel: Some(Channel::Import.as_str().into()),
            category,
            street,
            community,
            address: r.get(c.address).map(str::to_string),
            title: r.get(c.title).map(|t| t.chars().take(200).collect()),
            text,
            caller_name: r.get(c.caller_name).map(str::to_string),
            caller_phone: r.get(c.caller_phone).map(str::to_string),
            urgent: false,
            received_at: Some(received),
        };
        let intake = jiesu_server::api::requests::validate_intake(
            &input,
            Channel::Import,
            self.dir,
            self.now,
        )
        .map_err(|e| {
            let (field, code) = match &e {
                DomainError::Invalid { field, code, .. } => (field.as_str(), *code),
                other => ("", other.code()),
            };
            let col = match field {
                "text" => c.text.first().copied(),
                "category" => c.category,
                "street" => c.street,
                "community" => c.community,
                "address" => c.address,
                "title" => c.title,
                "caller_name" => c.caller_name,
                "caller_phone" => c.caller_phone,
                "received_at" => Some(c.received_at),
                "request_type" => c.request_type,
                _ => None,
            };
            r.issue(col, code, e.to_string())
        })?;

        // Idempotency key and tracking code derive from the source id, so they are the same
        // on every import of the row.
        let key = format!("import:{}:{id}", self.m.source);
        let tracking = format!("{}-{id}", self.m.source);
        let mut b = Log {
            st: RequestState::new(0, tracking, intake.clone(), received),
            events: vec![Event {
                seq: 1,
                at: received,
                actor: self.actor.clone(),
                reason: None,
                kind: EventKind::Received { intake },
            }],
            actor: &self.actor,
        };

        // 派单
        let unit = match r.get(c.unit) {
            None => None,
            Some(v) => match self
                .m
                .values
                .unit
                .get(v)
                .or_else(|| self.names.units.get(v))
            {
                // Mapped to "": the mapping says this value names no unit of ours.
                Some(u) if u.is_empty() => None,
                Some(u) => Some(u.clone()),
                None => {
                    warn.push(r.issue(
                        c.unit,
                        "unknown_unit",
                        "not in [values.unit] nor one of our units; not dispatched",
                    ));
                    None
                }
            },
        };
        if let Some(unit) = unit {
            let ctx = Ctx {
                dir: self.dir,
                now: received,
            };
            let cmd = Command::Dispatch { unit, reason: None };
            let mut decided = jiesu_domain::decide(&b.st, &deciding(Role::Dispatcher), &cmd, &ctx)
                .map_err(|e| r.issue(c.unit, e.code(), e.to_string()))?;
            if let Some(d) = due {
                for n in &mut decided {
                    if let EventKind::Dispatched {
                        response_due,
                        completion_due,
                        warn_at,
                        ..
                    } = &mut n.kind
                    {
                        *completion_due = d;
                        *response_due = (*response_due).min(d);
                        *warn_at = warn_instant(received, d, self.dir.world.sla.warning_ratio);
                    }
                }
            }
            b.stamp(decided, received);
        }

        // Whether the file says the row is finished.
        let status_says_closed = match r.get(c.status) {
            None => None,
            Some(v) => match self.m.values.status.get(v).map(|s| s.parse::<Status>()) {
                Some(Ok(s)) => Some(s.is_terminal()),
                Some(Err(_)) => {
                    return Err(r.issue(
                        c.status,
                        "bad_mapping",
                        "[values.status] maps this to an unknown status code",
                    ));
                }
                None => match v.parse::<Status>() {
                    Ok(s) => Some(s.is_terminal()),
                    Err(_) => {
                        warn.push(r.issue(
                            c.status,
                            "unknown_status",
                            "not in [values.status]; the closed time alone decides",
                        ));
                        None
                    }
                },
            },
        };
        let closed = match (status_says_closed, closed_at) {
            (Some(true) | None, Some(t)) => Some(t),
            (Some(true), None) => {
                warn.push(r.issue(
                    c.status,
                    "closed_without_time",
                    "status says closed but the closed time is empty; left open",
                ));
                None
            }
            (Some(false), Some(_)) => {
                warn.push(r.issue(
                    c.closed_at,
                    "closed_time_but_open",
                    "a closed time on a row whose status is not closed; left open",
                ));
                None
            }
            (_, None) => None,
        };

        // 答复: stamped as the file says (see the module notes on why not `decide`).
        let reply_at = replied_at.or(closed);
        if let Some(text) = r.get(c.reply) {
            match (reply_at, optional_text("reply", &Some(text.to_string()))) {
                (Some(t), Ok(Some(text))) => b.stamp(
                    vec![NewEvent::because(
                        EventKind::Replied { text },
                        "imported: reply as recorded by the source; 签收 and contact are not in the source",
                    )],
                    t,
                ),
                (None, _) => warn.push(r.issue(
                    c.reply,
                    "reply_without_time",
                    "a reply text but no reply or closed time; the reply is not recorded as an event",
                )),
                (_, Ok(None)) => {}
                (_, Err(e)) => warn.push(r.issue(c.reply, e.code(), e.to_string())),
            }
        }

        // 回访
        let cb_at = callback_at.or(closed);
        let cb = r.get(c.callback);
        let sat = r.get(c.satisfaction);
        if cb.is_some() || sat.is_some() {
            let result = match cb {
                None => Ok(None),
                Some(v) => match self.m.values.callback.get(v).map_or(v, String::as_str) {
                    "resolved" | "已解决" => Ok(Some((true, Some(true)))),
                    "unresolved" | "未解决" => Ok(Some((true, Some(false)))),
                    "unreached" | "未联系上" => Ok(Some((false, None))),
                    _ => Err(r.issue(
                        c.callback,
                        "unknown_callback_result",
                        "not in [values.callback] (→ resolved / unresolved / unreached)",
                    )),
                },
            };
            let satisfaction = match sat {
                None => Ok(None),
                Some(v) => self
                    .m
                    .values
                    .satisfaction
                    .get(v)
                    .map_or(v, String::as_str)
                    .parse::<Satisfaction>()
                    .map(Some)
                    .map_err(|_| {
                        r.issue(
                            c.satisfaction,
                            "unknown_satisfaction",
                            "not in [values.satisfaction] nor one of ours",
                        )
                    }),
            };
            match (result, satisfaction, cb_at) {
                (Err(i), _, _) | (_, Err(i), _) => warn.push(i),
                (_, _, None) => warn.push(r.issue(
                    c.callback.or(c.satisfaction),
                    "callback_without_time",
                    "a callback result but no callback or closed time; not recorded",
                )),
                (Ok(res), Ok(satisfaction), Some(t)) => {
                    // A satisfaction answer alone means the caller was reached.
                    let (reached, resolved) = res.unwrap_or((true, None));
                    b.stamp(
                        vec![NewEvent::because(
                            EventKind::CallbackRecorded {
                                reached,
                                resolved,
                                satisfaction: if reached { satisfaction } else { None },
                                note: String::new(),
                            },
                            "imported: callback as recorded by the source",
                        )],
                        t.max(b.st.updated_at),
                    );
                }
            }
        }

        // 办结
        if let Some(t) = closed {
            let t = t.max(b.st.updated_at);
            let ctx = Ctx {
                dir: self.dir,
                now: t,
            };
            let cmd = Command::Close {
                special: None,
                answer: None,
                reason: Some("imported: closed in the source".into()),
            };
            let decided = if b.st.status == Status::CalledBack {
                jiesu_domain::decide(&b.st, &deciding(Role::Callback), &cmd, &ctx).ok()
            } else {
                None
            };
            let decided = decided.unwrap_or_else(|| {
                vec![NewEvent::because(
                    EventKind::Closed {
                        outcome: CloseOutcome::Resolved,
                        special: None,
                        answer: None,
                    },
                    "imported: closed in the source, which records no outcome",
                )]
            });
            b.stamp(decided, t);
        }

        Ok(Built {
            key,
            st: b.st,
            events: b.events,
            file_due: due,
        })
    }
}

/// A log being built: events stamped with the import actor and applied in order.
struct Log<'a> {
    st: RequestState,
    events: Vec<Event>,
    actor: &'a Actor,
}

impl Log<'_> {
    fn stamp(&mut self, decided: Vec<NewEvent>, at: Timestamp) {
        for n in decided {
            let e = Event {
                seq: self.st.version + 1,
                at,
                actor: self.actor.clone(),
                reason: n.reason,
                kind: n.kind,
            };
            self.st.apply(&e);
            self.events.push(e);
        }
    }
}
