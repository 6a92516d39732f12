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
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use jiesu_store::ListFilter;

pub use jiesu_app::export::*;

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
    // Parsed by the list's own extractor, so a bad value names its field as the list does.
    let uri: axum::http::Uri = format!(
        "/?{}",
        serde_urlencoded::to_string(&rest).map_err(ApiError::internal)?
    )
    .parse()
    .map_err(ApiError::internal)?;
    let axum::extract::Query(query) =
        axum::extract::Query::<crate::api::requests::ListQuery>::try_from_uri(&uri)?;
    let filter = authorize(
        &app,
        &user,
        &query,
        format,
        raw.as_deref().unwrap_or_default(),
    )
    .await?;
    let now = app.now();
    let stamp = now
        .to_zoned_datetime(app.dir.calendar.time_zone().clone())
        .strftime("%Y%m%d-%H%M%S")
        .to_string();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let ctx = app.app.clone();
    let (content_type, ext) = match format {
        Format::Csv => {
            tokio::spawn(async move {
                let out = ChannelWriter {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(64 * 1024),
                };
                if let Err(e) = write_csv_async(&ctx, &filter, out).await {
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
            write_xlsx(&ctx, &filter, file.path())
                .await
                .map_err(|e| match e {
                    ExportError::Store(s) => ApiError::from(s),
                    ExportError::App(a) => ApiError::from(a),
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
    // Nothing is answered before the first chunk (the header and the first page, or the whole
    // file) is ready: a failure there is a proper error, never an empty 200. A failure later
    // aborts the transfer, so a client can tell a cut export from a complete one.
    let mut rx = rx;
    let first = match rx.recv().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(e)) => return Err(ApiError::internal(e)),
        None => return Err(ApiError::internal("the export ended before its first byte")),
    };
    let rest = tokio_stream::wrappers::ReceiverStream::new(rx);
    let body = Body::from_stream(tokio_stream::StreamExt::chain(
        tokio_stream::once(Ok::<_, std::io::Error>(first)),
        rest,
    ));
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
    app: &jiesu_app::App,
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
        let p = jiesu_app::requests::page(app, &f).await?;
        n += p.items.len() as u64;
        {
            let mut w = csv::WriterBuilder::new().from_writer(&mut out.buf);
            for st in p.items {
                w.write_record(row(&app.dir, st)).map_err(csv_io)?;
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
