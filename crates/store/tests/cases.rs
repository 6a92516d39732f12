//! The generic case engine, on SQLite and (with `JIESU_TEST_PG_URL`) on PostgreSQL: a second
//! kind of case, defined here and nowhere else, gets create, act with optimistic concurrency,
//! refusals, an ordered event log, exactly-once timers and outbox rows without engine code of
//! its own.

use jiesu_domain::case::{CaseEvent, CaseKind, Decided};
use jiesu_domain::{Actor, Ctx, Directory, DomainError, Role};
use jiesu_store::testing::TestDb;
use jiesu_store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A ticket: open → acknowledged → closed; unacknowledged after 60 s it is escalated (once).
struct Ticket;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TicketState {
    id: i64,
    version: i64,
    status: String,
    title: String,
    opened_at: Timestamp,
    escalated: bool,
    notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum TicketEvent {
    Opened { title: String },
    Noted { text: String },
    Acknowledged,
    Escalated,
    Closed,
}

enum TicketCmd {
    Note(String),
    Acknowledge,
    Close,
}

const ACK_WITHIN: SignedDuration = SignedDuration::from_secs(60);

impl CaseKind for Ticket {
    const KIND: &'static str = "test_ticket";
    type State = TicketState;
    type Event = TicketEvent;
    type Command = TicketCmd;
    type Create = String;

    fn event_name(e: &TicketEvent) -> &'static str {
        match e {
            TicketEvent::Opened { .. } => "opened",
            TicketEvent::Noted { .. } => "noted",
            TicketEvent::Acknowledged => "acknowledged",
            TicketEvent::Escalated => "escalated",
            TicketEvent::Closed => "closed",
        }
    }
    fn initial(id: i64, now: Timestamp) -> TicketState {
        TicketState {
            id,
            version: 0,
            status: "new".into(),
            title: String::new(),
            opened_at: now,
            escalated: false,
            notes: Vec::new(),
        }
    }
    fn create(
        title: &String,
        _actor: &Actor,
        _ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<TicketEvent>>, DomainError> {
        if title.trim().is_empty() {
            return Err(DomainError::invalid(
                "title",
                "required",
                "a title is required",
            ));
        }
        Ok(vec![(
            TicketEvent::Opened {
                title: title.clone(),
            },
            None,
        )])
    }
    fn decide(
        st: &TicketState,
        _actor: &Actor,
        cmd: &TicketCmd,
        _ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<TicketEvent>>, DomainError> {
        let refuse = |what: &str| {
            Err(DomainError::invalid(
                "status",
                "not_allowed",
                format!("cannot {what} a ticket that is {}", st.status),
            ))
        };
        match cmd {
            TicketCmd::Note(t) if st.status != "closed" => {
                Ok(vec![(TicketEvent::Noted { text: t.clone() }, None)])
            }
            TicketCmd::Note(_) => refuse("note"),
            TicketCmd::Acknowledge if st.status == "open" => {
                Ok(vec![(TicketEvent::Acknowledged, Some("on it".into()))])
            }
            TicketCmd::Acknowledge => refuse("acknowledge"),
            TicketCmd::Close if st.status == "acknowledged" => {
                Ok(vec![(TicketEvent::Closed, None)])
            }
            TicketCmd::Close => refuse("close"),
        }
    }
    fn apply(st: &mut TicketState, e: &CaseEvent<TicketEvent>) {
        st.version = e.seq;
        match &e.payload {
            TicketEvent::Opened { title } => {
                st.title = title.clone();
                st.status = "open".into();
                st.opened_at = e.at;
            }
            TicketEvent::Noted { text } => st.notes.push(text.clone()),
            TicketEvent::Acknowledged => st.status = "acknowledged".into(),
            TicketEvent::Escalated => st.escalated = true,
            TicketEvent::Closed => st.status = "closed".into(),
        }
    }
    fn id(st: &TicketState) -> i64 {
        st.id
    }
    fn version(st: &TicketState) -> i64 {
        st.version
    }
    fn status(st: &TicketState) -> &str {
        &st.status
    }
    fn can_see(actor: &Actor, _st: &TicketState) -> bool {
        actor.role != Role::Handler
    }
    fn next_timer(st: &TicketState) -> Option<Timestamp> {
        (st.status == "open" && !st.escalated).then(|| st.opened_at + ACK_WITHIN)
    }
    fn fire_timers(st: &TicketState, now: Timestamp) -> Vec<Decided<TicketEvent>> {
        match Self::next_timer(st) {
            Some(t) if t <= now => vec![(
                TicketEvent::Escalated,
                Some("not acknowledged in 60 s".into()),
            )],
            _ => Vec::new(),
        }
    }
}

fn dir() -> Arc<Directory> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    match jiesu_world::load_dir(&path) {
        Ok(w) => Arc::new(Directory::new(w)),
        Err(e) => panic!("world: {e}"),
    }
}

fn t0() -> Timestamp {
    "2026-11-02T09:00:00+08:00".parse().expect("t0")
}

fn dispatcher() -> Actor {
    Actor {
        user_id: Some(7),
        username: "dispatcher".into(),
        role: Role::Dispatcher,
        unit: None,
    }
}

async fn each(f: impl AsyncFn(&Store)) {
    for db in TestDb::all().await.expect("test db") {
        f(&db.store).await;
        db.cleanup().await;
    }
}

fn names(events: &[CaseEvent<TicketEvent>]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| Ticket::event_name(&e.payload))
        .collect()
}

#[tokio::test]
async fn create_act_refuse_and_list_events() {
    let dir = dir();
    each(async |s| {
        let a = dispatcher();
        let st = s
            .create_case::<Ticket>(&dir, &a, &"lift broken".to_string(), t0())
            .await
            .expect("create");
        assert_eq!(st.version, 1);
        assert_eq!(st.status, "open");
        let id = st.id;

        // Refused at creation: nothing stored.
        let e = s
            .create_case::<Ticket>(&dir, &a, &" ".to_string(), t0())
            .await;
        assert!(
            matches!(e, Err(StoreError::Domain(DomainError::Invalid { .. }))),
            "{e:?}"
        );

        let t1 = t0() + SignedDuration::from_secs(10);
        let st = s
            .act_case::<Ticket>(&dir, &a, id, &TicketCmd::Acknowledge, t1)
            .await
            .expect("ack");
        assert_eq!((st.version, st.status.as_str()), (2, "acknowledged"));

        // A refused command changes nothing.
        let e = s
            .act_case::<Ticket>(&dir, &a, id, &TicketCmd::Acknowledge, t1)
            .await;
        assert!(
            matches!(e, Err(StoreError::Domain(DomainError::Invalid { .. }))),
            "{e:?}"
        );
        assert_eq!(
            s.get_case::<Ticket>(id).await.expect("get"),
            Some(st.clone())
        );

        // Not visible: "not found" to the actor, and nothing changes.
        let h = Actor {
            role: Role::Handler,
            unit: Some("u".into()),
            ..dispatcher()
        };
        let e = s
            .act_case::<Ticket>(&dir, &h, id, &TicketCmd::Close, t1)
            .await;
        assert!(
            matches!(e, Err(StoreError::Domain(DomainError::NotVisible))),
            "{e:?}"
        );

        // Unknown id.
        let e = s
            .act_case::<Ticket>(&dir, &a, id + 1000, &TicketCmd::Close, t1)
            .await;
        assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");

        let st = s
            .act_case::<Ticket>(&dir, &a, id, &TicketCmd::Close, t1)
            .await
            .expect("close");
        assert_eq!((st.version, st.status.as_str()), (3, "closed"));

        let events = s.case_events::<Ticket>(id).await.expect("events");
        assert_eq!(names(&events), ["opened", "acknowledged", "closed"]);
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(events[1].reason.as_deref(), Some("on it"));
        assert_eq!(events[1].actor, a);
        assert_eq!(events[1].at, t1);

        // Replaying the log gives the stored state.
        let mut replay = Ticket::initial(id, t0());
        for e in &events {
            Ticket::apply(&mut replay, e);
        }
        assert_eq!(replay, st);

        // Every event went to the outbox, in order, with its kind.
        let out = s.case_outbox(0, 100).await.expect("outbox");
        assert_eq!(out.len(), 3);
        assert!(
            out.iter()
                .all(|o| o.kind == "test_ticket" && o.case_id == id)
        );
        assert_eq!(
            out.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["opened", "acknowledged", "closed"]
        );
        assert_eq!(out.iter().map(|o| o.seq).collect::<Vec<_>>(), [1, 2, 3]);
        let after = s.case_outbox(out[0].id, 100).await.expect("outbox after");
        assert_eq!(after.len(), 2);

        // Generic cases are not requests: the request outbox and tables are untouched.
        assert_eq!(s.outbox_stats().await.expect("stats").outbox, 0);
        assert!(s.get(id).await.expect("get request").is_none());
    })
    .await;
}

#[tokio::test]
async fn concurrent_acts_all_land_in_order() {
    let dir = dir();
    each(async |s| {
        let a = dispatcher();
        let id = s
            .create_case::<Ticket>(&dir, &a, &"noisy".to_string(), t0())
            .await
            .expect("create")
            .id;
        let n = 8;
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (s, dir, a) = (s.clone(), dir.clone(), a.clone());
                tokio::spawn(async move {
                    s.act_case::<Ticket>(&dir, &a, id, &TicketCmd::Note(format!("n{i}")), t0())
                        .await
                })
            })
            .collect();
        let mut versions = Vec::new();
        for t in tasks {
            versions.push(t.await.expect("join").expect("note").version);
        }
        versions.sort();
        assert_eq!(versions, (2..2 + n).collect::<Vec<i64>>());
        let st = s.get_case::<Ticket>(id).await.expect("get").expect("some");
        assert_eq!(st.version, 1 + n);
        assert_eq!(st.notes.len() as i64, n);
        let events = s.case_events::<Ticket>(id).await.expect("events");
        assert_eq!(
            events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=1 + n).collect::<Vec<i64>>()
        );
    })
    .await;
}

#[tokio::test]
async fn timer_fires_exactly_once_and_not_after_ack() {
    let dir = dir();
    each(async |s| {
        let a = dispatcher();
        let late = s
            .create_case::<Ticket>(&dir, &a, &"nobody came".to_string(), t0())
            .await
            .expect("create")
            .id;
        let acked = s
            .create_case::<Ticket>(&dir, &a, &"answered".to_string(), t0())
            .await
            .expect("create")
            .id;
        s.act_case::<Ticket>(
            &dir,
            &a,
            acked,
            &TicketCmd::Acknowledge,
            t0() + SignedDuration::from_secs(30),
        )
        .await
        .expect("ack");

        // Before the timer: nothing.
        let r = s
            .sweep_case_timers::<Ticket>(t0() + SignedDuration::from_secs(59))
            .await
            .expect("early sweep");
        assert_eq!(r.escalations, 0);

        // Two sweeps at once, then a third: one escalation in all.
        let at = t0() + SignedDuration::from_secs(61);
        let (s1, s2) = (s.clone(), s.clone());
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { s1.sweep_case_timers::<Ticket>(at).await }),
            tokio::spawn(async move { s2.sweep_case_timers::<Ticket>(at).await }),
        );
        let (r1, r2) = (
            r1.expect("join").expect("sweep"),
            r2.expect("join").expect("sweep"),
        );
        assert_eq!(r1.escalations + r2.escalations, 1, "{r1:?} {r2:?}");
        let r3 = s
            .sweep_case_timers::<Ticket>(at + SignedDuration::from_secs(3600))
            .await
            .expect("sweep again");
        assert!(r3.swept);
        assert_eq!(r3.escalations, 0);

        let st = s
            .get_case::<Ticket>(late)
            .await
            .expect("get")
            .expect("some");
        assert!(st.escalated);
        assert_eq!(st.version, 2);
        let events = s.case_events::<Ticket>(late).await.expect("events");
        assert_eq!(names(&events), ["opened", "escalated"]);
        assert_eq!(events[1].actor, Actor::system());
        assert_eq!(events[1].at, at);

        // Acknowledged in time: never escalated.
        let events = s.case_events::<Ticket>(acked).await.expect("events");
        assert_eq!(names(&events), ["opened", "acknowledged"]);

        // The escalation went out too.
        let out = s.case_outbox(0, 100).await.expect("outbox");
        assert_eq!(
            out.iter()
                .filter(|o| o.name == "escalated")
                .map(|o| o.case_id)
                .collect::<Vec<_>>(),
            [late]
        );
    })
    .await;
}
