//! Address resolution on the shipped demo world (Xicheng) and how it degrades; prints JSON.
//!
//! `cargo run --release -p jiesu-text --example address_bench -- [--world world/xicheng]`
//!
//! Every named place of the gazetteer (roads, hutongs, compounds, landmarks, areas) becomes an
//! address `<name>12号` in three forms: exact; misspelt (one character of the name, the middle
//! one, replaced by a character that is not in the name); partial (the name's last character
//! dropped, so `烟袋斜街` becomes `烟袋斜`). Each form reports how often a street is answered,
//! how often the answer is the place's street, and the share answered correctly of all.

use std::path::{Path, PathBuf};

use jiesu_text::address::{Gazetteer, GazetteerPlace, Resolver};
use serde_json::json;

fn records(world: &Path, name: &str) -> Result<Vec<csv::StringRecord>, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(world.join(name))?;
    Ok(reader.records().collect::<Result<_, _>>()?)
}

/// Replace the middle character of `name` with one the name does not contain.
fn misspell(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let at = chars.len() / 2;
    let substitute = ['大', '东', '山', '水', '口']
        .into_iter()
        .find(|c| !chars.contains(c))
        .unwrap_or('某');
    chars[at] = substitute;
    chars.into_iter().collect()
}

fn truncate(name: &str) -> String {
    let n = name.chars().count();
    name.chars().take(n.saturating_sub(1)).collect()
}

/// Turns a place name into the name written in the address.
type Form = fn(&str) -> String;

fn main() {
    if let Err(e) = run() {
        eprintln!("address_bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut world = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--world" => world = args.next().ok_or("--world needs a folder")?.into(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let streets = records(&world, "streets.csv")?
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let communities = records(&world, "communities.csv")?
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string()))
        .collect();
    let places: Vec<GazetteerPlace> = records(&world, "places.csv")?
        .iter()
        .map(|r| GazetteerPlace {
            name: r[0].to_string(),
            kind: r[1].to_string(),
            street_code: r[2].to_string(),
            community_code: Some(r[3].to_string()).filter(|c| !c.is_empty()),
        })
        .collect();
    let resolver = Resolver::new(
        &Gazetteer {
            streets,
            communities,
            places: places.clone(),
        },
        "西城区",
    );

    let forms: [(&str, Form); 3] = [
        ("exact", |n| n.to_string()),
        ("misspelt_one_char", misspell),
        ("partial_last_char_dropped", truncate),
    ];
    let mut report = serde_json::Map::new();
    for (form, make) in forms {
        let (mut answered, mut correct, mut confidence) = (0usize, 0usize, 0f64);
        for place in &places {
            let address = format!("{}12号", make(&place.name));
            let res = resolver.resolve(&address);
            if let Some(street) = &res.street {
                answered += 1;
                confidence += f64::from(street.confidence);
                if street.code == place.street_code {
                    correct += 1;
                }
            }
        }
        let n = places.len().max(1) as f64;
        report.insert(
            form.to_string(),
            json!({
                "addresses": places.len(),
                "answered_rate": answered as f64 / n,
                "correct_when_answered": correct as f64 / answered.max(1) as f64,
                "correct_of_all": correct as f64 / n,
                "mean_confidence_when_answered": confidence / answered.max(1) as f64,
            }),
        );
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({"world": world, "forms": report}))?
    );
    Ok(())
}
