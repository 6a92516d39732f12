//! Export of requests to CSV or XLSX, filtered like the list (`GET /requests/export`, and
//! `jiesu export` on the command line). The store is paged through with the list's keyset
//! cursor, one page in memory at a time; XLSX is written in constant-memory mode. Identities
//! are masked as in every list, and a handler exports only its unit's requests (the list's
//! scope).

use crate::App;
use crate::error::AppResult;
use crate::requests::ListQuery;
use crate::views::mask_state;
use jiesu_domain::{Directory, RequestState};
use jiesu_store::{ListFilter, User};
use jiff::Timestamp;
use std::io::Write;

/// Rows fetched from the store per page.
pub const PAGE: u32 = 500;

/// The exported columns. The first eighteen are the generic 12345 export layout
/// (`world/mappings/generic-12345.toml`), so an export can be imported elsewhere; then 来电人,
/// 联系电话, 渠道 (in words: 网站, 12345热线…) and 是否超期; the rest carry our codes for machines
/// (`channel` is the code behind 渠道: `web`, `hotline`…).
pub const COLUMNS: &[&str] = &[
    "工单编号",
    "受理时间",
    "诉求类型",
    "问题分类",
    "工单标题",
    "诉求内容",
    "所属街道",
    "所属社区",
    "详细地址",
    "承办单位",
    "办理时限",
    "工单状态",
    "答复时间",
    "答复内容",
    "回访时间",
    "回访结果",
    "满意度",
    "办结时间",
    "来电人",
    "联系电话",
    "渠道",
    "是否超期",
    "id",
    "status",
    "request_type",
    "category",
    "street",
    "community",
    "lead_unit",
    "channel",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(format!("unknown format `{other}`; use csv or xlsx")),
        }
    }
}

/// `2026-10-15 23:59:59` in the world's zone (the layout 12345 exports use).
fn local(dir: &Directory, t: Option<Timestamp>) -> String {
    t.map(|t| {
        t.to_zoned_datetime(dir.calendar.time_zone().clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
    .unwrap_or_default()
}

/// One request as export cells, identities masked.
pub fn row(dir: &Directory, mut st: RequestState) -> Vec<String> {
    mask_state(&mut st);
    let name = |o: Option<String>| o.unwrap_or_default();
    let crate::views::Names {
        category,
        street,
        community,
        lead_unit: unit,
    } = crate::views::names(dir, &st);
    let (cb_at, cb_result, satisfaction) = match &st.callback {
        Some(cb) => (
            Some(cb.at),
            match (cb.reached, cb.resolved) {
                (false, _) => "未联系上",
                (true, Some(true)) => "已解决",
                (true, Some(false)) => "未解决",
                (true, None) => "",
            },
            cb.satisfaction.map(|s| s.label_zh()).unwrap_or_default(),
        ),
        None => (None, "", ""),
    };
    vec![
        st.tracking_code.clone(),
        local(dir, Some(st.intake.received_at)),
        st.intake.request_type.label_zh().to_string(),
        name(category),
        st.intake.title.clone().unwrap_or_default(),
        st.intake.text.clone(),
        name(street),
        name(community),
        st.intake.address.clone().unwrap_or_default(),
        name(unit),
        local(dir, st.completion_due),
        st.status.label_zh().to_string(),
        local(dir, st.replied_at),
        st.reply.clone().unwrap_or_default(),
        local(dir, cb_at),
        cb_result.to_string(),
        satisfaction.to_string(),
        local(dir, st.closed_at),
        st.intake.caller.name.clone().unwrap_or_default(),
        st.intake.caller.phone.clone().unwrap_or_default(),
        st.intake.channel.label_zh().to_string(),
        if st.response_overdue || st.completion_overdue {
            "是"
        } else {
            "否"
        }
        .to_string(),
        st.id.to_string(),
        st.status.as_str().to_string(),
        st.intake.request_type.as_str().to_string(),
        st.intake.category.clone().unwrap_or_default(),
        st.intake.street.clone().unwrap_or_default(),
        st.intake.community.clone().unwrap_or_default(),
        st.lead_unit.clone().unwrap_or_default(),
        st.intake.channel.as_str().to_string(),
    ]
}

/// Pages through every request matching `filter` (newest first), handing each page to `page`.
/// Returns the number of rows.
pub async fn each_page<E>(
    app: &App,
    filter: &ListFilter,
    mut page: impl FnMut(Vec<RequestState>) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<jiesu_store::StoreError>,
{
    let mut f = filter.clone();
    f.limit = PAGE;
    f.cursor = None;
    let mut n = 0u64;
    loop {
        let p = app.store.list(&f).await?;
        n += p.items.len() as u64;
        page(p.items)?;
        match p.next_cursor {
            Some(c) => f.cursor = Some(c),
            None => return Ok(n),
        }
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] jiesu_store::StoreError),
    #[error(transparent)]
    App(#[from] crate::AppError),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the spreadsheet: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("the client went away")]
    Gone,
}

/// CSV (UTF-8 with a BOM, so Excel opens Chinese text correctly) to `out`; returns the rows.
pub async fn write_csv<W: Write>(
    app: &App,
    filter: &ListFilter,
    mut out: W,
) -> Result<u64, ExportError> {
    out.write_all("\u{FEFF}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS).map_err(csv_io)?;
    let dir = &app.dir;
    let n = each_page(app, filter, |items| {
        for st in items {
            w.write_record(row(dir, st)).map_err(csv_io)?;
        }
        Ok::<_, ExportError>(())
    })
    .await?;
    w.flush()?;
    Ok(n)
}

pub fn csv_io(e: csv::Error) -> ExportError {
    ExportError::Io(std::io::Error::other(e))
}

/// XLSX to the file `path` (one sheet 工单, header row frozen); returns the rows.
pub async fn write_xlsx(
    app: &App,
    filter: &ListFilter,
    path: &std::path::Path,
) -> Result<u64, ExportError> {
    use rust_xlsxwriter::{Format as Fmt, Workbook};
    let mut wb = Workbook::new();
    let n = {
        // Constant memory: each row goes to a temporary file once the next row begins.
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name("工单")?;
        let bold = Fmt::new().set_bold();
        for (c, h) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let mut r: u32 = 0;
        let dir = &app.dir;
        each_page(app, filter, |items| {
            for st in items {
                r += 1;
                for (c, v) in row(dir, st).iter().enumerate() {
                    if !v.is_empty() {
                        ws.write_string(r, c as u16, v)?;
                    }
                }
            }
            Ok::<_, ExportError>(())
        })
        .await?
    };
    wb.save(path)?;
    Ok(n)
}

/// The filter of an export `user` asked for, with the export written to the audit log: a bulk
/// export is a disclosure worth recording even with identities masked.
pub async fn authorize(
    app: &App,
    user: &User,
    query: &ListQuery,
    format: Format,
    raw_query: &str,
) -> AppResult<ListFilter> {
    let filter = crate::requests::build_filter(app, user, query).await?;
    crate::accounts::audit(
        app,
        user,
        "export_requests",
        "requests",
        "export".into(),
        Some(format!("{} {raw_query}", format.as_str())),
    )
    .await?;
    Ok(filter)
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}
