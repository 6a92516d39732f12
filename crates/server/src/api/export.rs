//! Export of requests to CSV or XLSX, filtered like the list (`GET /requests/export`, and
//! `jiesu export` on the command line).
//!
//! Streaming: the store is paged through with the list's keyset cursor, one page in memory at a
//! time. CSV goes to the client page by page; XLSX is written by rust_xlsxwriter in constant-
//! memory mode (rows go to a temporary file as they come) and the finished file, a zip that can
//! only be assembled at the end, is then streamed from disk. Identities are masked as in every
//! list, and a handler exports only its unit's requests (the list's scope).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::views::mask_state;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use jiesu_domain::{Directory, RequestState};
use jiesu_store::{AuditEntry, ListFilter, Store};
use jiff::Timestamp;
use std::io::Write;

/// Rows fetched from the store per page.
const PAGE: u32 = 500;

/// The exported columns. The first eighteen are the generic 12345 export layout
/// (`world/mappings/generic-12345.toml`), so an export can be imported elsewhere; the rest carry
/// our codes for machines.
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
        st.intake.channel.as_str().to_string(),
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
    ]
}

/// Pages through every request matching `filter` (newest first), handing each page to `page`.
/// Returns the number of rows.
pub async fn each_page<E>(
    store: &Store,
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
        let p = store.list(&f).await?;
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
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the spreadsheet: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("the client went away")]
    Gone,
}

/// CSV (UTF-8 with a BOM, so Excel opens Chinese text correctly) to `out`; returns the rows.
pub async fn write_csv<W: Write>(
    store: &Store,
    dir: &Directory,
    filter: &ListFilter,
    mut out: W,
) -> Result<u64, ExportError> {
    out.write_all("\u{FEFF}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS).map_err(csv_io)?;
    let n = each_page(store, filter, |items| {
        for st in items {
            w.write_record(row(dir, st)).map_err(csv_io)?;
        }
        Ok::<_, ExportError>(())
    })
    .await?;
    w.flush()?;
    Ok(n)
}

fn csv_io(e: csv::Error) -> ExportError {
    ExportError::Io(std::io::Error::other(e))
}

/// XLSX to the file `path` (one sheet 工单, header row frozen); returns the rows.
pub async fn write_xlsx(
    store: &Store,
    dir: &Directory,
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
        each_page(store, filter, |items| {
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

/// `GET /requests/export?format=csv|xlsx&…` with the list's filters (not `cursor` or `limit`:
/// an export is every matching request).
pub async fn export(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let mut format = Format::Csv;
    let mut rest = Vec::new();
    for (k, v) in form_pairs(raw.as_deref().unwrap_or_default()) {
        match k.as_str() {
            "format" => {
                format = v.parse().map_err(|m: String| {
                    ApiError::field(StatusCode::BAD_REQUEST, "bad_query", "format", m)
                })?
            }
            "cursor" | "limit" => {
                return Err(ApiError::field(
                    StatusCode::BAD_REQUEST,
                    "bad_query",
                    &k,
                    format!(
                        "`{k}` does not apply to an export: it contains every matching request"
                    ),
                ));
            }
            _ => rest.push((k, v)),
        }
    }
    let query: crate::api::requests::ListQuery = serde_urlencoded::from_str(
        &serde_urlencoded::to_string(&rest).map_err(ApiError::internal)?,
    )
    .map_err(|e| {
        let msg = e.to_string();
        let field = msg.find('`').and_then(|i| {
            msg[i + 1..]
                .find('`')
                .map(|j| msg[i + 1..i + 1 + j].to_string())
        });
        let mut err = ApiError::bad_request("bad_query", msg);
        err.body.field = field;
        err
    })?;
    let filter = crate::api::requests::build_filter(&app, &user, &query).await?;
    let now = app.now();
    // A bulk export is a disclosure worth recording even with identities masked.
    app.store
        .audit(&AuditEntry {
            at: now,
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.as_str().into(),
            action: "export_requests".into(),
            target_type: "requests".into(),
            target_id: "export".into(),
            detail: Some(format!(
                "{} {}",
                if format == Format::Csv { "csv" } else { "xlsx" },
                raw.unwrap_or_default()
            )),
        })
        .await?;
    let stamp = now
        .to_zoned_datetime(app.dir.calendar.time_zone().clone())
        .strftime("%Y%m%d-%H%M%S")
        .to_string();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let (store, dir) = (app.store.clone(), app.dir.clone());
    let (content_type, ext) = match format {
        Format::Csv => {
            tokio::spawn(async move {
                let out = ChannelWriter {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(64 * 1024),
                };
                if let Err(e) = write_csv_async(&store, &dir, &filter, out).await {
                    tracing::warn!(error = %e, "CSV export stopped");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                }
            });
            ("text/csv; charset=utf-8", "csv")
        }
        Format::Xlsx => {
            // Written before the first byte is sent, so a failure is still a proper error.
            let file = tempfile::Builder::new()
                .prefix("jiesu-export-")
                .suffix(".xlsx")
                .tempfile()
                .map_err(ApiError::internal)?;
            write_xlsx(&store, &dir, &filter, file.path())
                .await
                .map_err(|e| match e {
                    ExportError::Store(s) => ApiError::from(s),
                    other => ApiError::internal(other),
                })?;
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                // The temporary file is removed when `file` drops, after the last chunk.
                let mut f = match tokio::fs::File::open(file.path()).await {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match f.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx
                                .send(Ok(Bytes::copy_from_slice(&buf[..n])))
                                .await
                                .is_err()
                            {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            break;
                        }
                    }
                }
                drop(file);
            });
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            )
        }
    };
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"requests-{stamp}.{ext}\""),
        )
        .body(body)
        .map_err(ApiError::internal)
}

/// `k=v&…` pairs, percent-decoded (repeated keys kept in order).
fn form_pairs(raw: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw).unwrap_or_default()
}

/// Collects CSV bytes and hands them to the response in 64 KiB chunks.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    async fn send(&mut self) -> Result<(), ExportError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(64 * 1024),
        ));
        self.tx.send(Ok(chunk)).await.map_err(|_| ExportError::Gone)
    }
}

/// `write_csv` for the response stream: the CSV writer fills a buffer synchronously and each
/// page's bytes are sent (waiting for the client) before the next page is read.
async fn write_csv_async(
    store: &Store,
    dir: &Directory,
    filter: &ListFilter,
    mut out: ChannelWriter,
) -> Result<u64, ExportError> {
    out.buf.extend_from_slice("\u{FEFF}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out.buf);
        w.write_record(COLUMNS).map_err(csv_io)?;
        w.flush()?;
    }
    let mut f = filter.clone();
    f.limit = PAGE;
    f.cursor = None;
    let mut n = 0u64;
    loop {
        let p = store.list(&f).await?;
        n += p.items.len() as u64;
        {
            let mut w = csv::WriterBuilder::new().from_writer(&mut out.buf);
            for st in p.items {
                w.write_record(row(dir, st)).map_err(csv_io)?;
            }
            w.flush()?;
        }
        out.send().await?;
        match p.next_cursor {
            Some(c) => f.cursor = Some(c),
            None => return Ok(n),
        }
    }
}
