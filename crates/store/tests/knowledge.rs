//! The 咨询 knowledge base's tables, on SQLite and (with `JIESU_TEST_PG_URL`) on PostgreSQL:
//! entries and their revisions, optimistic status changes, uses and feedback counted in the same
//! transaction, the search staleness stamp.

use jiesu_domain::Role;
use jiesu_domain::knowledge::{EntryContent, EntryStatus};
use jiesu_store::testing::TestDb;
use jiesu_store::{NewUser, Store, StoreError};
use jiff::{SignedDuration, Timestamp};

fn t0() -> Timestamp {
    "2026-11-02T09:00:00+08:00".parse().expect("t0")
}

fn content(question: &str) -> EntryContent {
    EntryContent {
        question: question.into(),
        answer: "可在北京住房公积金网上业务系统申请提取，也可到管理部柜台办理。".into(),
        policy_source: "《北京住房公积金提取管理办法》".into(),
        unit: "housing-construction".into(),
        valid_from: "2026-01-01".parse().expect("date"),
        valid_to: Some("2027-12-31".parse().expect("date")),
        keywords: vec!["公积金".into(), "提取".into()],
    }
}

async fn user(s: &Store, name: &str, role: Role, unit: Option<&str>) -> i64 {
    s.create_user(
        &NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "$argon2id$v=19$fake".into(),
            role,
            unit_code: unit.map(str::to_string),
        },
        t0(),
    )
    .await
    .expect("user")
}

async fn scenario(s: &Store) {
    let b = s.backend();
    let editor = user(s, "kb-editor", Role::Handler, Some("housing-construction")).await;
    let reviewer = user(s, "kb-reviewer", Role::Admin, None).await;
    let stamp0 = s.knowledge_stamp().await.expect("stamp");
    assert_eq!(stamp0.0, 0, "[{b}]");

    let e = s
        .knowledge_create(
            &content("公积金怎么提取"),
            Some((editor, "kb-editor")),
            EntryStatus::Draft,
            t0(),
        )
        .await
        .expect("create");
    assert_eq!(e.revision, 1, "[{b}]");
    assert_eq!(e.status, EntryStatus::Draft);
    assert_eq!(e.revision_author, Some(editor));
    assert_eq!(
        e.content,
        content("公积金怎么提取"),
        "[{b}] content round-trips"
    );
    assert_eq!(s.knowledge_get(e.id).await.expect("get"), Some(e.clone()));

    // An edit is a new revision; the old one stays in the history.
    let t1 = t0() + SignedDuration::from_mins(5);
    let edited = s
        .knowledge_update(
            e.id,
            (1, EntryStatus::Draft),
            &content("住房公积金怎么提取"),
            Some((editor, "kb-editor")),
            EntryStatus::Draft,
            t1,
        )
        .await
        .expect("update");
    assert_eq!(edited.revision, 2, "[{b}]");
    assert_eq!(edited.content.question, "住房公积金怎么提取");
    let revs = s.knowledge_revisions(e.id).await.expect("revisions");
    assert_eq!(revs.len(), 2, "[{b}]");
    assert_eq!(revs[0].content.question, "公积金怎么提取");
    assert_eq!(revs[1].content.question, "住房公积金怎么提取");
    assert_eq!(revs[1].author, Some(editor));
    assert_eq!(revs[1].author_name, "kb-editor");
    assert_eq!(revs[1].at, t1);

    // A stale writer (still at revision 1) changes nothing.
    let stale = s
        .knowledge_update(
            e.id,
            (1, EntryStatus::Draft),
            &content("别人的修改"),
            Some((reviewer, "kb-reviewer")),
            EntryStatus::Draft,
            t1,
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict)),
        "[{b}] {stale:?}"
    );
    assert_eq!(s.knowledge_revisions(e.id).await.expect("revs").len(), 2);

    // Status changes: compare-and-set; a review records its reviewer and note.
    let submitted = s
        .knowledge_set_status(
            e.id,
            (2, EntryStatus::Draft),
            EntryStatus::InReview,
            None,
            t1,
        )
        .await
        .expect("submit");
    assert_eq!(submitted.status, EntryStatus::InReview);
    let again = s
        .knowledge_set_status(
            e.id,
            (2, EntryStatus::Draft),
            EntryStatus::InReview,
            None,
            t1,
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict)),
        "[{b}] {again:?}"
    );
    let published = s
        .knowledge_set_status(
            e.id,
            (2, EntryStatus::InReview),
            EntryStatus::Published,
            Some((reviewer, Some("内容准确"))),
            t1,
        )
        .await
        .expect("approve");
    assert_eq!(published.status, EntryStatus::Published);
    assert_eq!(published.reviewed_by, Some(reviewer));
    assert_eq!(published.review_note.as_deref(), Some("内容准确"));
    assert!(matches!(
        s.knowledge_set_status(
            9999,
            (1, EntryStatus::Draft),
            EntryStatus::Retired,
            None,
            t1
        )
        .await,
        Err(StoreError::NotFound)
    ));

    // Lists filter by status and unit.
    let other = s
        .knowledge_create(
            &EntryContent {
                unit: "education".into(),
                ..content("孩子入学需要什么材料")
            },
            None,
            EntryStatus::Published,
            t1,
        )
        .await
        .expect("create other");
    assert_eq!(other.revision_author, None);
    assert_eq!(s.knowledge_list(None, None).await.expect("all").len(), 2);
    let pubd = s
        .knowledge_list(Some(EntryStatus::Published), Some("education"))
        .await
        .expect("filtered");
    assert_eq!(
        pubd.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![other.id]
    );
    assert!(
        s.knowledge_list(Some(EntryStatus::Draft), None)
            .await
            .expect("drafts")
            .is_empty()
    );

    // Uses and feedback: a row each and the counter, together.
    s.knowledge_record_use(e.id, 2, None, Some(editor), t1)
        .await
        .expect("use");
    s.knowledge_record_use(e.id, 2, None, None, t1)
        .await
        .expect("use");
    let f = s
        .knowledge_record_feedback(e.id, 2, None, Some(editor), Some("来电人说已经过时"), t1)
        .await
        .expect("feedback");
    assert_eq!(f.note.as_deref(), Some("来电人说已经过时"));
    let got = s.knowledge_get(e.id).await.expect("get").expect("some");
    assert_eq!((got.uses, got.unhelpful), (2, 1), "[{b}]");
    let fb = s.knowledge_feedback(e.id).await.expect("feedback list");
    assert_eq!(fb.len(), 1);
    assert_eq!(fb[0].user_id, Some(editor));
    assert!(matches!(
        s.knowledge_record_use(9999, 1, None, None, t1).await,
        Err(StoreError::NotFound)
    ));

    // The stamp moved with every change of content or status, not with counts.
    let stamp = s.knowledge_stamp().await.expect("stamp");
    assert_ne!(stamp, stamp0);
    s.knowledge_record_use(e.id, 2, None, None, t1)
        .await
        .expect("use");
    assert_eq!(s.knowledge_stamp().await.expect("stamp"), stamp, "[{b}]");
    s.knowledge_set_status(
        e.id,
        (2, EntryStatus::Published),
        EntryStatus::Retired,
        None,
        t1,
    )
    .await
    .expect("retire");
    assert_ne!(s.knowledge_stamp().await.expect("stamp"), stamp, "[{b}]");
}

#[tokio::test]
async fn knowledge_entries_revisions_uses_and_feedback_on_each_backend() {
    for db in TestDb::all().await.expect("databases") {
        scenario(&db.store).await;
        db.cleanup().await;
    }
}
