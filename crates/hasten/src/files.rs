//! Files: [`FileResponse`] for one file, [`StaticFiles`] for a folder.
//!
//! Both send `Content-Type` (guessed from the extension), `Content-Length`, `ETag`,
//! `Last-Modified` and `Accept-Ranges: bytes`; answer `If-None-Match` /
//! `If-Modified-Since` with 304, a single `Range` with 206 (honouring `If-Range`), and
//! an unsatisfiable one with 416. The file is read in 64 KiB chunks as the client
//! takes them, and is open only while a chunk is read: a client that stops reading
//! holds no file descriptor, however many responses it leaves waiting. A file that
//! changes while it is sent (another file at the path, another length or time) ends
//! the response with an error rather than mixing two versions.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::files::{FileResponse, StaticFiles};
//!
//! /// The report, as a download.
//! #[get("/report")]
//! async fn report() -> FileResponse {
//!     FileResponse::new("reports/latest.pdf").filename("report.pdf")
//! }
//!
//! let app = App::new()
//!     .route(report)
//!     .mount("/static", StaticFiles::new("static").html(true));
//! # let _ = app.build().unwrap();
//! ```

use std::convert::Infallible;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, LOCATION, RANGE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::body::{Body, RequestBody};
use crate::future::BoxFuture;
use crate::response::{IntoResponse, Response};

const CHUNK: usize = 64 * 1024;

/// A file sent as the response (Starlette's `FileResponse`). A file that does not
/// exist (or is not a regular file) is a 404.
#[derive(Debug, Clone)]
pub struct FileResponse {
    path: PathBuf,
    filename: Option<String>,
    media_type: Option<String>,
    inline: bool,
}

impl FileResponse {
    /// Send the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileResponse {
            path: path.into(),
            filename: None,
            media_type: None,
            inline: false,
        }
    }

    /// Offer it for download under this name (`Content-Disposition: attachment`).
    pub fn filename(mut self, name: impl Into<String>) -> Self {
        self.filename = Some(name.into());
        self
    }

    /// With a file name, show it in the browser rather than download it
    /// (`Content-Disposition: inline`).
    pub fn inline(mut self) -> Self {
        self.inline = true;
        self
    }

    /// Set the media type instead of guessing it from the extension.
    pub fn media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = Some(media_type.into());
        self
    }
}

/// A file response waiting for the request's conditional and range headers; the app
/// completes it after the handler returns.
#[derive(Clone)]
pub(crate) struct PendingFile(pub(crate) Arc<FileResponse>);

impl IntoResponse for FileResponse {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::empty());
        resp.extensions_mut().insert(PendingFile(Arc::new(self)));
        resp
    }
}

impl crate::openapi::describe::DescribeResponse for FileResponse {
    fn describe_response() -> crate::openapi::model::ResponseDoc {
        crate::openapi::model::ResponseDoc {
            content_type: Some("application/octet-stream"),
            schema: crate::openapi::model::SchemaDoc::Inline(
                serde_json::json!({ "type": "string", "format": "binary" }),
            ),
            status: None,
        }
    }
}

/// The request headers a file response depends on, taken before the handler runs.
#[derive(Debug, Default, Clone)]
pub(crate) struct Conditions {
    range: Option<HeaderValue>,
    if_range: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
}

impl Conditions {
    pub(crate) fn of(headers: &HeaderMap) -> Option<Self> {
        let c = Conditions {
            range: headers.get(RANGE).cloned(),
            if_range: headers.get(IF_RANGE).cloned(),
            if_none_match: headers.get(IF_NONE_MATCH).cloned(),
            if_modified_since: headers.get(IF_MODIFIED_SINCE).cloned(),
        };
        (c.range.is_some() || c.if_none_match.is_some() || c.if_modified_since.is_some())
            .then_some(c)
    }
}

impl PendingFile {
    /// The response for the file under these request conditions; `base` keeps the
    /// handler's status (when not 200) and headers.
    pub(crate) async fn complete(
        self,
        base: Response,
        conditions: Option<&Conditions>,
    ) -> Response {
        let (parts, _) = base.into_parts();
        let mut resp = serve(&self.0, conditions.cloned().unwrap_or_default()).await;
        for (name, value) in parts.headers.iter() {
            if !resp.headers().contains_key(name) {
                resp.headers_mut().insert(name, value.clone());
            }
        }
        if resp.status() == StatusCode::OK && parts.status != StatusCode::OK {
            *resp.status_mut() = parts.status;
        }
        resp
    }
}

fn not_found() -> Response {
    crate::HttpError::new(StatusCode::NOT_FOUND, "Not Found").render()
}

/// What a file was when its response started: a later chunk must read the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Identity {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            dev: meta.dev(),
            #[cfg(unix)]
            ino: meta.ino(),
        }
    }
}

/// Open the file, check it, and close it again: `None` if it cannot be served.
async fn probe(path: &Path) -> Option<std::fs::Metadata> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&path).ok()?;
        f.metadata().ok().filter(std::fs::Metadata::is_file)
    })
    .await
    .ok()
    .flatten()
}

/// Read `want` bytes at `offset` of the file at `path`, if it is still `identity`:
/// open, read, close.
fn read_chunk(path: &Path, identity: Identity, offset: u64, want: usize) -> std::io::Result<Bytes> {
    #[cfg_attr(unix, allow(unused_mut))]
    let mut f = std::fs::File::open(path)?;
    if Identity::of(&f.metadata()?) != identity {
        return Err(std::io::Error::other("the file changed while being sent"));
    }
    let mut buf = BytesMut::zeroed(want);
    let mut filled = 0;
    while filled < want {
        #[cfg(unix)]
        let n =
            std::os::unix::fs::FileExt::read_at(&f, &mut buf[filled..], offset + filled as u64)?;
        #[cfg(not(unix))]
        let n = {
            use std::io::{Read, Seek};
            f.seek(std::io::SeekFrom::Start(offset + filled as u64))?;
            f.read(&mut buf[filled..])?
        };
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file got shorter while being sent",
            ));
        }
        filled += n;
    }
    Ok(buf.freeze())
}

/// Serve one file.
async fn serve(file: &FileResponse, c: Conditions) -> Response {
    let Some(meta) = probe(&file.path).await else {
        return not_found();
    };
    let identity = Identity::of(&meta);
    let size = meta.len();
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let mtime = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    let etag = format!("\"{:x}-{:x}\"", mtime.as_secs(), size);
    let last_modified = http_date(modified);

    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        headers.insert(LAST_MODIFIED, v);
    }
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    // 304: If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let not_modified = match (&c.if_none_match, &c.if_modified_since) {
        (Some(inm), _) => etag_matches(inm, &etag),
        (None, Some(ims)) => ims
            .to_str()
            .ok()
            .and_then(parse_http_date)
            .is_some_and(|since| mtime.as_secs() <= since),
        (None, None) => false,
    };
    if not_modified {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        *resp.headers_mut() = headers;
        return resp;
    }

    let media_type = file
        .media_type
        .clone()
        .unwrap_or_else(|| guess_media_type(&file.path).to_owned());
    if let Ok(v) = HeaderValue::from_str(&media_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Some(name) = &file.filename {
        let kind = if file.inline { "inline" } else { "attachment" };
        if let Ok(v) = HeaderValue::from_str(&content_disposition(kind, name)) {
            headers.insert(CONTENT_DISPOSITION, v);
        }
    }

    // Range: honoured when If-Range (if any) still matches.
    let range_applies = c.range.is_some()
        && c.if_range
            .as_ref()
            .is_none_or(|ir| ir.to_str().is_ok_and(|v| v == etag || v == last_modified));
    let (status, start, len) = match c.range.as_ref().filter(|_| range_applies) {
        None => (StatusCode::OK, 0, size),
        Some(r) => match parse_range(r.to_str().unwrap_or(""), size) {
            RangeSpec::Ignore => (StatusCode::OK, 0, size),
            RangeSpec::Unsatisfiable => {
                let mut resp = crate::HttpError::plain(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "Range Not Satisfiable",
                )
                .render();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.headers_mut().insert(CONTENT_RANGE, v);
                }
                return resp;
            }
            RangeSpec::Bytes(first, last) => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes {first}-{last}/{size}")) {
                    headers.insert(CONTENT_RANGE, v);
                }
                (StatusCode::PARTIAL_CONTENT, first, last - first + 1)
            }
        },
    };
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));

    let path = Arc::new(file.path.clone());
    let chunks = futures_util::stream::unfold((start, len), move |(offset, left)| {
        let path = path.clone();
        async move {
            if left == 0 {
                return None;
            }
            let want = (left as usize).min(CHUNK);
            let read =
                tokio::task::spawn_blocking(move || read_chunk(&path, identity, offset, want))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            Some(match read {
                Ok(chunk) => (Ok(chunk), (offset + want as u64, left - want as u64)),
                Err(e) => (Err(e), (offset, 0)),
            })
        }
    });
    let mut resp = Response::new(Body::from_stream(chunks));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

fn etag_matches(header: &HeaderValue, etag: &str) -> bool {
    let Ok(v) = header.to_str() else {
        return false;
    };
    v.trim() == "*"
        || v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag)
}

enum RangeSpec {
    /// Not a byte range we serve (several ranges, another unit, garbage): send it all.
    Ignore,
    Unsatisfiable,
    Bytes(u64, u64),
}

/// One `bytes=` range, RFC 9110 §14.1.2.
fn parse_range(header: &str, size: u64) -> RangeSpec {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignore;
    };
    if spec.contains(',') {
        return RangeSpec::Ignore;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Ignore;
    };
    let (a, b) = (a.trim(), b.trim());
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(first), Ok(last)) if first <= last => {
            if first >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Bytes(first, last.min(size - 1))
            }
        }
        (Ok(first), Err(_)) if b.is_empty() => {
            if first >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Bytes(first, size - 1)
            }
        }
        (Err(_), Ok(suffix)) if a.is_empty() => {
            if suffix == 0 || size == 0 {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Bytes(size.saturating_sub(suffix), size - 1)
            }
        }
        _ => RangeSpec::Ignore,
    }
}

/// `attachment; filename="report.pdf"`, with `filename*` for names beyond ASCII
/// (RFC 6266), as Starlette does.
fn content_disposition(kind: &str, name: &str) -> String {
    if name.is_ascii() && !name.contains(['"', '\\', '\r', '\n']) {
        format!("{kind}; filename=\"{name}\"")
    } else {
        let encoded: String =
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        format!("{kind}; filename*=utf-8''{encoded}")
    }
}

/// The media type for a file name's extension (`application/octet-stream` if unknown).
pub fn guess_media_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" | "text" | "log" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/vnd.microsoft.icon",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "wasm" => "application/wasm",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "jsonl" => "application/jsonl",
        "yaml" | "yml" => "application/yaml",
        _ => "application/octet-stream",
    }
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 → (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since the epoch of an IMF-fixdate; `None` for anything else.
fn parse_http_date(s: &str) -> Option<u64> {
    let mut it = s.split_whitespace();
    let _day = it.next()?;
    let d: u32 = it.next()?.parse().ok()?;
    let month = it.next()?;
    let m = MONTHS.iter().position(|x| *x == month)? as u32 + 1;
    let y: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let (h, mi, se): (i64, i64, i64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
    );
    if it.next()? != "GMT" {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs).ok()
}

/// A folder served under a mount prefix (Starlette's `StaticFiles`):
/// `App::mount("/static", StaticFiles::new("static"))`.
///
/// Paths cannot leave the folder: `..` segments (also percent-encoded), backslashes
/// and NUL are refused, and a symbolic link pointing outside the folder is not
/// followed — each is a 404. With [`html`](StaticFiles::html), a folder serves its
/// `index.html` and a missing file the folder's `404.html` (if there is one).
#[derive(Debug, Clone)]
pub struct StaticFiles {
    root: Arc<PathBuf>,
    html: bool,
}

impl StaticFiles {
    /// Serve the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StaticFiles {
            root: Arc::new(root.into()),
            html: false,
        }
    }

    /// Serve `index.html` for folders and `404.html` for missing files.
    pub fn html(mut self, html: bool) -> Self {
        self.html = html;
        self
    }

    /// The file a request path names, if it stays inside the root.
    async fn resolve(&self, path: &str) -> Result<(PathBuf, bool), ()> {
        let decoded = percent_encoding::percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| ())?;
        let mut rel = PathBuf::new();
        for segment in decoded.split('/') {
            if segment.is_empty() || segment == "." {
                continue;
            }
            if segment == ".." || segment.contains(['\\', '\0']) {
                return Err(());
            }
            rel.push(segment);
        }
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(());
        }
        let root = tokio::fs::canonicalize(self.root.as_path())
            .await
            .map_err(|_| ())?;
        let full = tokio::fs::canonicalize(root.join(&rel))
            .await
            .map_err(|_| ())?;
        // Symbolic links are resolved: what they point to must be inside the root.
        if !full.starts_with(&root) {
            return Err(());
        }
        let is_dir = tokio::fs::metadata(&full).await.map_err(|_| ())?.is_dir();
        Ok((full, is_dir))
    }

    async fn respond(self, req: http::Request<RequestBody>) -> Response {
        let (parts, _) = req.into_parts();
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let mut resp =
                crate::HttpError::plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
                    .render();
            resp.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let path = parts.uri.path();
        let conditions = Conditions::of(&parts.headers).unwrap_or_default();
        let mut resp = match self.resolve(path).await {
            Ok((dir, true)) if self.html => {
                if !path.ends_with('/') {
                    // `index.html` links are relative to the folder: redirect to it.
                    let prefix = parts
                        .extensions
                        .get::<crate::extract::MountedAt>()
                        .map_or("", |m| m.0.as_str());
                    let mut location = format!("{prefix}{path}/");
                    if let Some(q) = parts.uri.query() {
                        location = format!("{location}?{q}");
                    }
                    let mut r = Response::new(Body::empty());
                    *r.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                    if let Ok(v) = HeaderValue::from_str(&location) {
                        r.headers_mut().insert(LOCATION, v);
                    }
                    return r;
                }
                let index = dir.join("index.html");
                if tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
                    serve(&FileResponse::new(index), conditions).await
                } else {
                    self.missing().await
                }
            }
            Ok((file, false)) => serve(&FileResponse::new(file), conditions).await,
            _ => self.missing().await,
        };
        if parts.method == Method::HEAD {
            *resp.body_mut() = Body::empty();
        }
        resp
    }

    async fn missing(&self) -> Response {
        if self.html {
            let page = self.root.join("404.html");
            if tokio::fs::metadata(&page).await.is_ok_and(|m| m.is_file()) {
                let mut resp = serve(&FileResponse::new(page), Conditions::default()).await;
                *resp.status_mut() = StatusCode::NOT_FOUND;
                return resp;
            }
        }
        crate::HttpError::plain(StatusCode::NOT_FOUND, "Not Found").render()
    }
}

impl tower_service::Service<http::Request<RequestBody>> for StaticFiles {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<RequestBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.respond(req).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn ranges() {
        assert!(matches!(
            parse_range("bytes=0-9", 100),
            RangeSpec::Bytes(0, 9)
        ));
        assert!(matches!(
            parse_range("bytes=90-", 100),
            RangeSpec::Bytes(90, 99)
        ));
        assert!(matches!(
            parse_range("bytes=-10", 100),
            RangeSpec::Bytes(90, 99)
        ));
        assert!(matches!(
            parse_range("bytes=95-200", 100),
            RangeSpec::Bytes(95, 99)
        ));
        assert!(matches!(
            parse_range("bytes=100-", 100),
            RangeSpec::Unsatisfiable
        ));
        assert!(matches!(
            parse_range("bytes=0-1,5-6", 100),
            RangeSpec::Ignore
        ));
        assert!(matches!(parse_range("items=0-1", 100), RangeSpec::Ignore));
        assert!(matches!(parse_range("bytes=5-1", 100), RangeSpec::Ignore));
    }

    #[test]
    fn dispositions() {
        assert_eq!(
            content_disposition("attachment", "a.pdf"),
            "attachment; filename=\"a.pdf\""
        );
        assert_eq!(
            content_disposition("attachment", "résumé.pdf"),
            "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%2Epdf"
        );
    }
}
