//! `jiesu export` through the real binary, round-tripped: a generic 12345 CSV is imported, the
//! database exported to CSV and to XLSX (filtered like the list), and each export imported into
//! a fresh database through the same generic mapping — every exported row must come back, and
//! the XLSX rows (read with calamine) must equal the CSV rows.

use calamine::Reader;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_jiesu");

fn mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/mappings/generic-12345.toml")
}

fn jiesu(args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .env("JIESU_LOG", "warn")
        .output()
        .expect("run jiesu");
    assert!(
        out.status.success(),
        "jiesu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "jiesu {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Sixty rows: open and closed, several streets, units, categories and callback outcomes.
fn source_csv() -> String {
    let streets = [
        ("西长安街街道", "府右街南社区"),
        ("新街口街道", ""),
        ("月坛街道", ""),
    ];
    let cats = ["违章停车", "停水", "室温不达标"];
    let units = [
        "北京市公安局公安交通管理局西城交通支队",
        "北京市自来水集团西城分公司",
        "月坛街道办事处",
    ];
    let mut s = String::from(
        "工单编号,受理时间,诉求类型,问题分类,工单标题,诉求内容,所属街道,所属社区,详细地址,承办单位,办理时限,工单状态,答复时间,答复内容,回访时间,回访结果,满意度,办结时间\n",
    );
    for i in 0..60 {
        let (street, community) = streets[i % 3];
        let closed = i % 4 != 0;
        let day = 3 + i % 20;
        s.push_str(&format!(
            "R{i:03},2025-03-{day:02} 09:{m:02}:00,投诉,{cat},,第{i}号诉求：问题一直没有解决,{street},{community},某路{i}号,{unit},,{status},{reply_t},{reply},{cb_t},{cb},{sat},{close_t}\n",
            m = i % 60,
            cat = cats[i % 3],
            unit = units[i % 3],
            status = if closed { "已办结" } else { "办理中" },
            reply_t = if closed { format!("2025-03-{day:02} 15:00:00") } else { String::new() },
            reply = if closed { "已处理" } else { "" },
            cb_t = if closed { format!("2025-03-{:02} 10:00:00", day + 1) } else { String::new() },
            cb = if !closed { "" } else if i % 3 == 0 { "未解决" } else { "已解决" },
            sat = if !closed { "" } else if i % 3 == 0 { "不满意" } else { "满意" },
            close_t = if closed { format!("2025-03-{:02} 11:00:00", day + 1) } else { String::new() },
        ));
    }
    s
}

#[test]
fn exports_round_trip_through_import() {
    let d = std::env::temp_dir().join(format!("jiesu-export-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp");
    let p = |name: &str| d.join(name).display().to_string();
    std::fs::write(d.join("src.csv"), source_csv()).expect("write");
    let m = mapping().display().to_string();
    let db = format!("sqlite://{}", p("a.db"));

    let r = jiesu(&["import", "--mapping", &m, "--db", &db, &p("src.csv")]);
    assert_eq!(r["imported"], 60, "{r}");

    // Filters as in the list: only closed ones, then everything.
    let closed = jiesu(&[
        "export",
        "--db",
        &db,
        "--format",
        "csv",
        "--out",
        &p("closed.csv"),
        "--status",
        "closed",
    ]);
    assert_eq!(closed["rows"], 45, "{closed}");
    let all_csv = jiesu(&[
        "export",
        "--db",
        &db,
        "--format",
        "csv",
        "--out",
        &p("all.csv"),
    ]);
    let all_xlsx = jiesu(&[
        "export",
        "--db",
        &db,
        "--format",
        "xlsx",
        "--out",
        &p("all.xlsx"),
    ]);
    assert_eq!(
        (all_csv["rows"].as_u64(), all_xlsx["rows"].as_u64()),
        (Some(60), Some(60))
    );

    // The XLSX holds exactly the CSV's rows.
    let text = std::fs::read_to_string(d.join("all.csv")).expect("csv");
    let csv_rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(d.join("all.xlsx")).expect("xlsx");
    let range = wb.worksheet_range("工单").expect("sheet");
    let xlsx_rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(xlsx_rows.len(), 61);
    for (x, c) in xlsx_rows.iter().zip(&csv_rows) {
        // Trailing empty cells are not stored in the workbook.
        let mut x = x.clone();
        x.resize(c.len(), String::new());
        assert_eq!(&x, c);
    }

    // Each export imports back whole through the same mapping.
    for file in ["all.csv", "all.xlsx"] {
        let db2 = format!("sqlite://{}", p(&format!("{file}.db")));
        let back = jiesu(&["import", "--mapping", &m, "--db", &db2, &p(file)]);
        assert_eq!(
            (back["imported"].as_u64(), back["rejected"].as_u64()),
            (Some(60), Some(0)),
            "{file}: {back}"
        );
        assert_eq!(back["events_by_kind"], r["events_by_kind"], "{file}");
    }

    // A bad filter names the flag; nothing is left behind.
    let out = Command::new(BIN)
        .args([
            "export",
            "--db",
            &db,
            "--out",
            &p("x.csv"),
            "--status",
            "lost",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--status") && err.contains("lost"), "{err}");
    assert!(!d.join("x.csv").exists());
    let _ = std::fs::remove_dir_all(&d);
}
