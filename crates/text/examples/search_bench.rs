//! Full-text search benchmark; prints JSON.
//!
//! `cargo run --release -p jiesu-text --example search_bench -- [N] [DIR]`
//!
//! Indexes N synthetic Chinese requests (default 200,000) into an on-disk index in DIR (default
//! a temporary directory), one commit at the end, and reports the build rate; then runs 1,000
//! two-word queries (two problem words drawn from the vocabulary) and reports latency
//! percentiles with the server's candidate limit and with a page-sized limit.

use std::time::Instant;

use jiesu_text::search::SearchIndex;
use serde_json::json;

const PLACES: &[&str] = &[
    "展览路街道",
    "德胜街道",
    "什刹海街道",
    "西长安街街道",
    "大栅栏街道",
    "天桥街道",
    "新街口街道",
    "金融街街道",
    "椿树街道",
    "陶然亭街道",
    "广安门内街道",
    "牛街街道",
    "白纸坊街道",
    "广安门外街道",
    "月坛街道",
];
const THINGS: &[&str] = &[
    "暖气",
    "路灯",
    "井盖",
    "电梯",
    "楼道",
    "下水道",
    "自来水",
    "燃气",
    "垃圾",
    "停车",
    "噪音",
    "施工",
    "绿化",
    "物业",
    "外卖",
    "共享单车",
    "广告",
    "油烟",
    "积水",
    "树木",
];
const PROBLEMS: &[&str] = &[
    "不热",
    "不亮",
    "丢失",
    "故障",
    "堵塞",
    "漏水",
    "停水",
    "异味",
    "扰民",
    "占道",
    "乱停",
    "破损",
    "倒伏",
    "堆放",
    "无人管理",
    "收费",
    "拖欠",
    "违规",
    "安全隐患",
    "影响出行",
];
const TAILS: &[&str] = &[
    "已经持续一周了",
    "老人孩子受不了",
    "多次反映没有解决",
    "希望尽快处理",
    "物业不管",
    "晚上影响休息",
    "存在安全隐患",
    "请相关部门核实",
    "居民意见很大",
    "要求给个说法",
];

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("jiesu-search-bench-{}", std::process::id()))
        });
    let _ = std::fs::remove_dir_all(&dir);
    let index = match SearchIndex::open(&dir) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("search_bench: {e}");
            std::process::exit(1);
        }
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    for id in 1..=n {
        let place = rng.pick(PLACES);
        let thing = rng.pick(THINGS);
        let problem = rng.pick(PROBLEMS);
        let tail = rng.pick(TAILS);
        let text = format!("{place}某小区{}号楼{thing}{problem}，{tail}。", id % 40 + 1);
        let title = format!("{thing}{problem}");
        let address = format!("{place}{}号院", id % 200 + 1);
        if let Err(e) = index.upsert(
            id,
            1_700_000_000_000 + id * 60_000,
            "received",
            Some(place),
            None,
            Some(&title),
            &text,
            Some(&address),
        ) {
            eprintln!("search_bench: {e}");
            std::process::exit(1);
        }
    }
    if let Err(e) = index.commit() {
        eprintln!("search_bench: {e}");
        std::process::exit(1);
    }
    let build_s = started.elapsed().as_secs_f64();

    let mut report = serde_json::Map::new();
    for limit in [2_000usize, 20] {
        let mut ms = Vec::with_capacity(1_000);
        let mut hits = 0usize;
        for _ in 0..1_000 {
            let q = format!("{} {}", rng.pick(THINGS), rng.pick(PROBLEMS));
            let t = Instant::now();
            hits += index.search(&q, limit).len();
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        report.insert(
            format!("limit_{limit}"),
            json!({
                "queries": ms.len(),
                "mean_hits": hits as f64 / ms.len() as f64,
                "p50_ms": percentile(&ms, 0.50),
                "p95_ms": percentile(&ms, 0.95),
                "p99_ms": percentile(&ms, 0.99),
            }),
        );
    }
    println!(
        "{}",
        json!({
            "docs": n,
            "indexed_docs": index.num_docs(),
            "build_seconds": build_s,
            "docs_per_second": n as f64 / build_s,
            "two_word_queries": report,
        })
    );
    let _ = std::fs::remove_dir_all(&dir);
}
