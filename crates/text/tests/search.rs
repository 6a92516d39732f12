//! Full-text search: Chinese texts found by a two-word query, upsert replaces, hostile queries
//! are plain queries.

use jiesu_text::search::SearchIndex;

fn ids(hits: &[(i64, f32)]) -> Vec<i64> {
    let mut v: Vec<i64> = hits.iter().map(|(id, _)| *id).collect();
    v.sort_unstable();
    v
}

fn sample() -> SearchIndex {
    let idx = SearchIndex::in_memory().expect("in-memory index");
    let docs: [(i64, Option<&str>, &str, Option<&str>); 5] = [
        (
            1,
            Some("暖气不热"),
            "家里暖气不热，室温只有十四度，老人孩子受不了",
            Some("西城区展览路街道"),
        ),
        (2, None, "小区暖气漏水，楼道全是水", Some("西长安街")),
        (
            3,
            Some("噪音扰民"),
            "楼下饭馆夜里施工噪音扰民，影响休息",
            None,
        ),
        (4, None, "暖气片一直不热，物业不管", None),
        (5, Some("路灯不亮"), "胡同里的路灯不亮了，晚上不安全", None),
    ];
    for (id, title, text, address) in docs {
        idx.upsert(
            id,
            1_700_000_000_000 + id,
            "received",
            Some("展览路街道"),
            None,
            title,
            text,
            address,
        )
        .expect("upsert");
    }
    idx.commit().expect("commit");
    idx
}

#[test]
fn two_word_query_finds_the_chinese_texts() {
    let idx = sample();
    assert_eq!(idx.num_docs(), 5);
    assert_eq!(ids(&idx.search("暖气 不热", 10)), vec![1, 4]);
    assert_eq!(ids(&idx.search("噪音", 10)), vec![3]);
    // AND: both words must be there; relaxed falls back to any word.
    assert!(idx.search("暖气 路灯", 10).is_empty());
    assert_eq!(ids(&idx.search_relaxed("暖气 路灯", 10)), vec![1, 2, 4, 5]);
    // Address is searched too.
    assert_eq!(ids(&idx.search("西长安街", 10)), vec![2]);
    // Best first: the request whose title and text both say it ranks first.
    assert_eq!(idx.search("暖气 不热", 10).first().map(|h| h.0), Some(1));
}

#[test]
fn upsert_replaces_the_document() {
    let idx = sample();
    idx.upsert(
        3,
        1,
        "closed",
        None,
        None,
        Some("暖气不热"),
        "修好前暖气一直不热",
        None,
    )
    .expect("upsert");
    idx.commit().expect("commit");
    assert_eq!(idx.num_docs(), 5);
    assert!(idx.search("噪音", 10).is_empty());
    assert_eq!(ids(&idx.search("暖气 不热", 10)), vec![1, 3, 4]);
    idx.clear().expect("clear");
    idx.commit().expect("commit");
    assert_eq!(idx.num_docs(), 0);
}

#[test]
fn on_disk_index_reopens() {
    let dir = std::env::temp_dir().join(format!("jiesu-search-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let idx = SearchIndex::open(&dir).expect("open");
        idx.upsert(
            7,
            0,
            "received",
            None,
            None,
            None,
            "井盖丢失，路人容易掉下去",
            None,
        )
        .expect("upsert");
        idx.commit().expect("commit");
    }
    let idx = SearchIndex::open(&dir).expect("reopen");
    assert_eq!(ids(&idx.search("井盖", 5)), vec![7]);
    drop(idx);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_queries_do_not_panic() {
    let idx = sample();
    let long = "暖气".repeat(2_000) + &"a".repeat(4_000) + "\"";
    let hostile = [
        "",
        "   ",
        "\"",
        "暖气 AND",
        "title:暖气",
        "(((",
        "+-!^~*?:\\/[]{}<>",
        "暖气~2 \"不热",
        "* OR *",
        "\u{0}\u{200b}",
        long.as_str(),
    ];
    for q in hostile {
        let _ = idx.search(q, 10);
        let _ = idx.search_relaxed(q, 10);
        assert!(idx.try_search(q, 10, true).is_ok(), "query {q:?} errored");
    }
    assert!(idx.search("", 10).is_empty());
    assert_eq!(idx.search("暖气", 0), vec![]);
}

#[test]
fn a_word_matches_as_a_phrase() {
    let idx = SearchIndex::in_memory().expect("in-memory index");
    for i in 0..5i64 {
        let text = format!("第{i}号诉求：路灯不亮");
        idx.upsert(
            i,
            i,
            "received",
            None,
            None,
            None,
            &text,
            Some("鼓楼西大街12号院3号楼"),
        )
        .expect("upsert");
    }
    idx.commit().expect("commit");
    // Every document has 第, 3 and 号 somewhere; only one has them in this order.
    assert_eq!(ids(&idx.search("第3号", 10)), vec![3]);
    assert_eq!(ids(&idx.search("诉求：路灯", 10)).len(), 5);
    assert_eq!(ids(&idx.search("3号楼", 10)).len(), 5);
}
