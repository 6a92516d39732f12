//! Broken inputs produce every error, each naming `file:line` and the field to fix.

use jiesu_world::{
    Field, WorldErrors, WorldSources, load_dir, load_sources, parse_categories_csv,
    parse_communities_csv, parse_district_toml, parse_holiday_csv, parse_holiday_files,
    parse_sla_toml, parse_streets_csv, parse_units_csv, parse_weights_toml,
};

const DISTRICT: &str =
    "code = \"110102\"\nname = \"西城区\"\npopulation = 100\ntime_zone = \"Asia/Shanghai\"\n";
const STREETS: &str = "code,name,population\n110102001,西长安街街道,60\n110102003,新街口街道,40\n";
const COMMUNITIES: &str =
    "code,name,street_code\n110102001001,府右街南社区,110102001\n110102003001,某社区,110102003\n";
const UNITS: &str = "code,name,kind,street_code\n\
110102001,西长安街街道办事处,street,110102001\n\
110102003,新街口街道办事处,street,110102003\n\
heating,北京市热力集团西城分公司,utility,\n";
const CATEGORIES: &str = "code,name,parent,responsible,sla_class,keywords\n\
heating,供暖,,,,\n\
heating.no-heat,室温不达标,heating,heating,utility,暖气不热|室温\n\
sanitation,环境卫生,,,,\n\
sanitation.garbage,垃圾,sanitation,street,ordinary,垃圾|垃圾桶\n";
const SLA: &str = "emergency_class = \"emergency\"\n\
default_class = \"ordinary\"\n\
warning_ratio = 0.8\n\
whistle_response = { hours = 24 }\n\
callback = { working_days = 2 }\n\
max_extension = { working_days = 15 }\n\
\n\
[[classes]]\n\
code = \"emergency\"\n\
name = \"紧急\"\n\
response = { hours = 1 }\n\
completion = { hours = 2 }\n\
\n\
[[classes]]\n\
code = \"utility\"\n\
name = \"水电气热\"\n\
response = { hours = 2 }\n\
completion = { hours = 24 }\n\
\n\
[[classes]]\n\
code = \"ordinary\"\n\
name = \"一般\"\n\
response = { working_days = 1 }\n\
completion = { working_days = 7 }\n";
const WEIGHTS: &str = "response = 10\nresolution = 45\nsatisfaction = 45\nsatisfied_score = 100\nbasically_satisfied_score = 80\nunsatisfied_score = 0\n";
const HOLIDAYS: &str = "date,name,kind\n2025-01-01,元旦,holiday\n2025-01-26,春节,makeup_workday\n";

fn sources() -> WorldSources {
    WorldSources {
        district: DISTRICT.into(),
        streets: STREETS.into(),
        communities: COMMUNITIES.into(),
        units: UNITS.into(),
        categories: CATEGORIES.into(),
        sla: SLA.into(),
        weights: WEIGHTS.into(),
        holidays: vec![("holidays/cn_2025.csv".into(), HOLIDAYS.into())],
    }
}

/// The errors as their one-line messages.
fn lines(errors: &WorldErrors) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fn errors_of(src: &WorldSources) -> Vec<String> {
    match load_sources(src) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => {
            // Display is one error per line.
            assert_eq!(errors.to_string().lines().count(), errors.len());
            lines(&errors)
        }
    }
}

/// Asserts that exactly these errors are reported, in this order.
fn assert_errors(src: &WorldSources, expected: &[&str]) {
    assert_eq!(errors_of(src), expected);
}

#[test]
fn the_minimal_world_loads() {
    let world = match load_sources(&sources()) {
        Ok(world) => world,
        Err(errors) => panic!("{errors}"),
    };
    assert_eq!(world.streets.len(), 2);
    assert_eq!(
        world
            .route("sanitation.garbage", "110102003")
            .map(|u| u.code.as_str()),
        Some("110102003")
    );
    assert!(world.holidays.covers(2025));
}

#[test]
fn unknown_unit_in_categories() {
    let mut src = sources();
    src.categories = src.categories.replace(",heating,utility", ",foo,utility");
    assert_errors(
        &src,
        &["categories.csv:3: column responsible: unknown unit \"foo\""],
    );
}

#[test]
fn unknown_sla_class_in_categories() {
    let mut src = sources();
    src.categories = src.categories.replace("street,ordinary", "street,slow");
    assert_errors(
        &src,
        &["categories.csv:5: column sla_class: unknown SLA class \"slow\""],
    );
}

#[test]
fn category_tree_shape() {
    let text = "code,name,parent,responsible,sla_class,keywords\n\
a,A,,street,ordinary,\n\
a.b,B,a,,,\n\
a.c,C,missing,street,ordinary,\n\
x,X,y,,,\n\
y,Y,x,,,\n\
a,dup,,,,\n";
    let errors = match parse_categories_csv("categories.csv", text) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => lines(&errors),
    };
    assert_eq!(
        errors,
        [
            "categories.csv:7: column code: duplicate code \"a\" (first on line 2)",
            "categories.csv:2: column responsible: only leaf categories route; leave it empty on a category with children",
            "categories.csv:2: column sla_class: only leaf categories carry an SLA class; leave it empty on a category with children",
            "categories.csv:3: column responsible: a leaf category needs a responsible unit (\"street\" or a unit code)",
            "categories.csv:3: column sla_class: a leaf category needs an SLA class",
            "categories.csv:4: column parent: unknown category \"missing\"",
            "categories.csv:5: column parent: parent chain loops: x → y → x",
            "categories.csv:6: column parent: parent chain loops: y → x → y",
        ]
    );
}

#[test]
fn a_flat_category_list_is_refused() {
    let text = "code,name,parent,responsible,sla_class,keywords\na,A,,street,ordinary,\n";
    let errors = parse_categories_csv("categories.csv", text).err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "categories.csv:1: the category tree needs at least two levels (some rows must name a parent)"
                .to_owned()
        ])
    );
}

#[test]
fn regions_and_units_cross_references() {
    let mut src = sources();
    src.streets
        .push_str("110102001,重复街道,1\n120102005,外区街道,1\n");
    src.communities
        .push_str("110102099001,无街道社区,110102099\n110102001002,错码社区,110102003\n");
    src.units
        .push_str("nowhere,某单位,provider,110102099\nbad,坏单位,ministry,\n");
    assert_errors(
        &src,
        &[
            "streets.csv:4: column code: duplicate code \"110102001\" (first on line 2)",
            "streets.csv:5: column code: street 120102005 is not inside district 110102",
            "streets.csv:5: column code: street 120102005 has no street office (a units.csv row with kind street)",
            "communities.csv:4: column street_code: unknown street \"110102099\"",
            "communities.csv:5: column code: community code 110102001002 does not start with its street code 110102003",
            "units.csv:5: column street_code: unknown street \"110102099\"",
            "units.csv:6: column kind: \"ministry\" is not one of street, department, utility, provider",
        ],
    );
}

#[test]
fn malformed_rows_are_reported_and_skipped() {
    let text = "code,name,population\n110102001,西长安街街道\n11010200x,坏码,1\n110102003,,-4\n110102004,好,7\n";
    let errors = parse_streets_csv("streets.csv", text).err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "streets.csv:2: expected 3 fields, found 2".to_owned(),
            "streets.csv:3: column code: \"11010200x\" is not a 9-digit street code".to_owned(),
            "streets.csv:4: column name: must not be empty".to_owned(),
            "streets.csv:4: column population: \"-4\" is not a whole non-negative number"
                .to_owned(),
        ])
    );
}

#[test]
fn header_problems_name_the_column() {
    let errors = parse_communities_csv("communities.csv", "code,name,street\n1,a,b\n").err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "communities.csv:1: column street_code: missing from the header".to_owned(),
            "communities.csv:1: column street: unknown column; expected code,name,street_code"
                .to_owned(),
        ])
    );
    let errors = parse_units_csv("units.csv", "").err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "units.csv:1: missing header row; expected code,name,kind,street_code".to_owned()
        ])
    );
}

#[test]
fn sla_policy_checks() {
    let text = SLA
        .replace("warning_ratio = 0.8", "warning_ratio = 1.5")
        .replace(
            "emergency_class = \"emergency\"",
            "emergency_class = \"urgent\"",
        )
        .replace("completion = { hours = 24 }", "completion = { hours = 0 }")
        .replace(
            "response = { working_days = 1 }",
            "response = { working_days = 9 }",
        );
    let errors = parse_sla_toml("sla.toml", &text).err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "sla.toml:18: key completion: must be a positive span".to_owned(),
            "sla.toml:23: key response: the response deadline is later than the completion deadline"
                .to_owned(),
            "sla.toml:1: key emergency_class: unknown class \"urgent\"".to_owned(),
            "sla.toml:3: key warning_ratio: must be between 0 and 1 (exclusive), got 1.5"
                .to_owned(),
        ])
    );
    // In a whole world the same errors come out sorted by line.
    let mut src = sources();
    src.sla = text;
    assert_eq!(
        errors_of(&src)[0],
        "sla.toml:1: key emergency_class: unknown class \"urgent\""
    );
}

#[test]
fn toml_syntax_and_shape_errors_have_lines() {
    let text = SLA.replace(
        "callback = { working_days = 2 }",
        "callback = { weeks = 2 }",
    );
    let errors = parse_sla_toml("sla.toml", &text).err();
    let first = errors.as_ref().and_then(|e| e.iter().next());
    assert_eq!(first.and_then(|e| e.line), Some(5), "{errors:?}");

    let text = DISTRICT.replace("population = 100", "population = ");
    let errors = parse_district_toml("district.toml", &text).err();
    let first = errors.as_ref().and_then(|e| e.iter().next());
    assert_eq!(first.and_then(|e| e.line), Some(3), "{errors:?}");

    let text = format!("{WEIGHTS}bonus = 5\n");
    let errors = parse_weights_toml("weights.toml", &text).err();
    let first = errors.as_ref().and_then(|e| e.iter().next());
    assert_eq!(first.and_then(|e| e.line), Some(7), "{errors:?}");
    assert!(first.is_some_and(|e| e.message.contains("bonus")));
}

#[test]
fn weights_must_sum_to_100() {
    let text = WEIGHTS.replace("resolution = 45", "resolution = 35");
    let errors = parse_weights_toml("weights.toml", &text).err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "weights.toml:1: key response: response + resolution + satisfaction must be 100, got 90"
                .to_owned()
        ])
    );
    // Fractions within rounding are accepted.
    let text = "response = 33.3333\nresolution = 33.3333\nsatisfaction = 33.3334\n\
satisfied_score = 100\nbasically_satisfied_score = 80\nunsatisfied_score = 0\n";
    assert!(parse_weights_toml("weights.toml", text).is_ok());
}

#[test]
fn weights_and_scores_in_range() {
    let text = WEIGHTS
        .replace("response = 10", "response = -10")
        .replace("satisfied_score = 100", "satisfied_score = 120");
    let errors = parse_weights_toml("weights.toml", &text).err();
    let fields: Vec<_> = errors
        .iter()
        .flatten()
        .map(|e| (e.line, e.field.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            (Some(1), Some(Field::Key("response".into()))),
            (Some(4), Some(Field::Key("satisfied_score".into()))),
        ]
    );
}

#[test]
fn holiday_file_bad_date_and_weekday_makeup() {
    let text = "date,name,kind\n\
2025-01-01,元旦,holiday\n\
2025-02-30,春节,holiday\n\
2025-10-01,国庆节,holiday\n\
2025-10-08,国庆节,makeup_workday\n";
    let errors = parse_holiday_csv("holidays/cn_2025.csv", text).err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "holidays/cn_2025.csv:3: column date: \"2025-02-30\" is not a valid date (YYYY-MM-DD)"
                .to_owned(),
            "holidays/cn_2025.csv:5: column kind: 2025-10-08 is a Wednesday; a makeup workday (调休) must fall on a Saturday or Sunday"
                .to_owned(),
        ])
    );
}

#[test]
fn holiday_duplicates_and_kinds() {
    let text = "date,name,kind\n2025-01-01,元旦,holiday\n2025-01-01,元旦,holiday\n2025-05-01,劳动节,day_off\n2025-05-02,,holiday\n";
    let errors = parse_holiday_csv("holidays/cn_2025.csv", text).err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "holidays/cn_2025.csv:3: column date: 2025-01-01 is listed twice (first on line 2)"
                .to_owned(),
            "holidays/cn_2025.csv:4: column kind: \"day_off\" is not one of holiday, makeup_workday"
                .to_owned(),
            "holidays/cn_2025.csv:5: column name: must not be empty".to_owned(),
        ])
    );
    // The same date in two files.
    let other = "date,name,kind\n2024-12-31,元旦,holiday\n2025-01-01,元旦,holiday\n";
    let errors = parse_holiday_files([
        ("holidays/cn_2025.csv", HOLIDAYS),
        ("holidays/cn_2024.csv", other),
    ])
    .err();
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "holidays/cn_2024.csv:3: column date: 2025-01-01 is already listed in holidays/cn_2025.csv:2"
                .to_owned()
        ])
    );
}

#[test]
fn holiday_year_comes_from_the_dates() {
    // A break spanning the new year puts December dates into the next year's file.
    let text = "date,name,kind\n2024-12-30,元旦,holiday\n2025-01-01,元旦,holiday\n2025-01-26,春节,makeup_workday\n";
    let table = parse_holiday_csv("holidays/any_name.csv", text);
    let years: Vec<i16> = table.iter().flat_map(|t| t.years.iter().copied()).collect();
    assert_eq!(years, [2025]);
}

#[test]
fn all_errors_across_files_are_collected() {
    let mut src = sources();
    src.categories = src.categories.replace(",heating,utility", ",foo,utility");
    src.weights = src
        .weights
        .replace("satisfaction = 45", "satisfaction = 40");
    src.holidays[0].1.push_str("2025-13-01,坏,holiday\n");
    src.communities.push_str("110102003001,重复,110102003\n");
    assert_errors(
        &src,
        &[
            "communities.csv:4: column code: duplicate code \"110102003001\" (first on line 3)",
            "categories.csv:3: column responsible: unknown unit \"foo\"",
            "weights.toml:1: key response: response + resolution + satisfaction must be 100, got 95",
            "holidays/cn_2025.csv:4: column date: \"2025-13-01\" is not a valid date (YYYY-MM-DD)",
        ],
    );
}

#[test]
fn garbage_never_panics() {
    let garbage = [
        "",
        "\n\n\n",
        ",,,,,,",
        "\"unterminated",
        "code\n\"a\nb\",x",
        "[[[",
        "a = ",
        "date,name,kind\n9999999-01-01,x,holiday\n0000-00-00,x,makeup_workday\n",
        "code,name,parent,responsible,sla_class,keywords\n|||,,,,,\n",
        "\u{feff}code,name,population\n110102001,x,99999999999999999999999\n",
    ];
    for text in garbage {
        let mut src = sources();
        src.district = text.into();
        src.streets = text.into();
        src.communities = text.into();
        src.units = text.into();
        src.categories = text.into();
        src.sla = text.into();
        src.weights = text.into();
        src.holidays = vec![("holidays/x.csv".into(), text.into())];
        let errors = errors_of(&src);
        assert!(!errors.is_empty(), "{text:?}");
    }
}

#[test]
fn load_dir_reports_every_missing_file() {
    let dir = std::env::temp_dir().join(format!("jiesu-world-missing-{}", std::process::id()));
    let made = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("district.toml"), DISTRICT));
    assert!(made.is_ok(), "{made:?}");
    let errors = load_dir(&dir).err();
    let _ = std::fs::remove_dir_all(&dir);
    let files: Vec<String> = errors.iter().flatten().map(|e| e.file.clone()).collect();
    assert_eq!(
        files,
        [
            "streets.csv",
            "communities.csv",
            "units.csv",
            "categories.csv",
            "sla.toml",
            "weights.toml"
        ]
    );
    assert!(
        errors
            .iter()
            .flatten()
            .all(|e| e.line.is_none() && e.message.starts_with("cannot read"))
    );
}

#[test]
fn an_unreadable_holiday_file_does_not_hide_other_errors() {
    let dir = std::env::temp_dir().join(format!("jiesu-world-utf8-{}", std::process::id()));
    let holidays = dir.join("holidays");
    let src = sources();
    let written = std::fs::create_dir_all(&holidays)
        .and_then(|()| std::fs::write(dir.join("district.toml"), &src.district))
        .and_then(|()| std::fs::write(dir.join("streets.csv"), &src.streets))
        .and_then(|()| std::fs::write(dir.join("communities.csv"), &src.communities))
        .and_then(|()| std::fs::write(dir.join("units.csv"), &src.units))
        .and_then(|()| std::fs::write(dir.join("categories.csv"), &src.categories))
        .and_then(|()| std::fs::write(dir.join("sla.toml"), &src.sla))
        .and_then(|()| {
            std::fs::write(
                dir.join("weights.toml"),
                src.weights.replace("response = 10", "response = 0"),
            )
        })
        .and_then(|()| std::fs::write(holidays.join("cn_2025.csv"), HOLIDAYS))
        .and_then(|()| std::fs::write(holidays.join("cn_2026.csv"), b"date,name,kind\n\xff\n"));
    assert!(written.is_ok(), "{written:?}");
    let errors = load_dir(&dir).err();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        errors.as_ref().map(lines),
        Some(vec![
            "weights.toml:1: key response: response + resolution + satisfaction must be 100, got 90"
                .to_owned(),
            "holidays/cn_2026.csv:2: not valid UTF-8 (save the file as UTF-8)".to_owned(),
        ])
    );
}
