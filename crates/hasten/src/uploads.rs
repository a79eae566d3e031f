//! Multipart forms and file uploads: [`UploadFile`].
//!
//! A `multipart/form-data` body is read as it arrives: text fields become form fields
//! (for `#[form]` parameters and [`Form<T>`](crate::Form)), file parts become
//! [`UploadFile`]s — kept in memory up to a threshold, written to a temporary file past
//! it, so a large upload never sits in memory. Temporary files are removed when the
//! `UploadFile` is dropped (at the latest when the request ends) unless
//! [`persist`](UploadFile::persist)ed.
//!
//! Limits ([`UploadLimits`], set with [`App::upload_limits`](crate::App::upload_limits))
//! bound the whole body, each file, each text field and the number of parts; going
//! over any of them is a 413 naming the limit, and nothing past it is kept. A part
//! whose headers (or a preamble) run past [`UploadLimits::max_part_headers`] is a 400,
//! as are other malformed bodies.
//!
//! Temporary files are created exclusively (never over an existing file), readable
//! only by their owner, under an unguessable name.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::uploads::UploadFile;
//!
//! /// Store a file with a description.
//! #[post("/files")]
//! async fn upload(file: UploadFile, #[form] description: String) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({
//!         "filename": file.filename(),
//!         "content_type": file.content_type(),
//!         "size": file.size(),
//!         "description": description,
//!     }))
//! }
//! # let _ = App::new().route(upload).build().unwrap();
//! ```

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use http_body::Body as _;
use tokio::io::AsyncWriteExt;

use crate::body::RequestBody;
use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx, Source};
use crate::openapi::model::{OperationDoc, ParamDoc};
pub use crate::runtime::UploadLimits;
use crate::validation::{LocItem, ValidationError};
use crate::HttpError;

/// A temporary file, removed when dropped.
#[derive(Debug)]
struct TempPath(Option<PathBuf>);

impl TempPath {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// Keep the file: it is no longer removed on drop.
    fn keep(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(target: "hasten::uploads", path = %p.display(), error = %e, "cannot remove a temporary upload");
                }
            }
        }
    }
}

#[derive(Debug)]
enum Storage {
    Memory(Bytes),
    Disk(TempPath),
}

/// An uploaded file (FastAPI's `UploadFile`): its name, type and size, and its
/// content in memory or, past the spool threshold, in a temporary file.
#[derive(Debug)]
pub struct UploadFile {
    filename: Option<String>,
    content_type: Option<String>,
    size: u64,
    headers: HeaderMap,
    storage: Storage,
}

impl UploadFile {
    /// The file name the client sent.
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }

    /// The media type the client declared.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The part's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Where it was written, if it went to disk (it is removed when this is dropped).
    pub fn path(&self) -> Option<&Path> {
        match &self.storage {
            Storage::Disk(t) => Some(t.path()),
            Storage::Memory(_) => None,
        }
    }

    /// The whole content (read from disk if it was spooled there).
    pub async fn bytes(&self) -> std::io::Result<Bytes> {
        match &self.storage {
            Storage::Memory(b) => Ok(b.clone()),
            Storage::Disk(t) => tokio::fs::read(t.path()).await.map(Bytes::from),
        }
    }

    /// Keep the file at `to` (moved when it was on disk, written otherwise).
    pub async fn persist(self, to: impl AsRef<Path>) -> std::io::Result<()> {
        let to = to.as_ref();
        match self.storage {
            Storage::Memory(b) => tokio::fs::write(to, &b).await,
            Storage::Disk(t) => {
                if tokio::fs::rename(t.path(), to).await.is_ok() {
                    let _ = t.keep();
                    return Ok(());
                }
                // Another file system: copy, and let the temporary file go.
                tokio::fs::copy(t.path(), to).await.map(|_| ())
            }
        }
    }
}

/// What a multipart body held: text fields in order, and files by field name.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) files: Vec<(String, UploadFile)>,
}

/// Whether the request declares a multipart form.
pub(crate) fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// 413 naming the limit, with `Connection: close`.
fn too_large(what: String) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Content Too Large: {what}"),
    )
    .with_header(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    )
}

/// A malformed multipart body: 400 with Starlette's words (what is wrong is logged).
fn bad_body(why: &str) -> HttpError {
    tracing::debug!(target: "hasten::uploads", why, "malformed multipart body");
    HttpError::new(StatusCode::BAD_REQUEST, "Invalid multipart data.")
}

/// Create a temporary file for an upload: a name with 128 random bits, created
/// exclusively (an existing file or link at that name is an error, never reused),
/// readable and writable by the owner only.
async fn create_temp(dir: &Path) -> std::io::Result<(TempPath, tokio::fs::File)> {
    let mut last = None;
    for _ in 0..4 {
        let name = crate::random::hex128().map_err(|e| std::io::Error::other(e.to_string()))?;
        let path = dir.join(format!("hasten-upload-{name}"));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        match options.open(&path).await {
            Ok(file) => return Ok((TempPath(Some(path)), file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

/// A part's headers (or the preamble) ran past the limit.
#[derive(Debug)]
struct PartHeadersTooLarge(usize);

impl std::fmt::Display for PartHeadersTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "part headers over {} bytes", self.0)
    }
}

impl std::error::Error for PartHeadersTooLarge {}

/// Where [`HeaderGuard`] is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Before the first delimiter.
    Preamble,
    /// Just past a delimiter: `--` ends the body, anything else starts headers.
    AfterDelimiter,
    /// Inside a part's header block, up to its blank line.
    Headers,
    /// Inside a part's content, looking for the next delimiter.
    Content,
    /// Past the closing delimiter: the parser reads no further.
    Epilogue,
}

/// Watches a multipart body on its way to the parser, which buffers a part's header
/// block (and the preamble) whole until it ends: a block longer than the limit fails
/// the body instead of growing that buffer. Linear in the body, with no copy of it.
struct HeaderGuard {
    delimiter: Vec<u8>,
    limit: usize,
    scan: Scan,
    count: usize,
    /// The last bytes of the previous chunk, for a pattern split across chunks.
    carry: Vec<u8>,
}

impl HeaderGuard {
    fn new(boundary: &str, limit: usize) -> Self {
        HeaderGuard {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            limit,
            scan: Scan::Preamble,
            count: 0,
            // The first delimiter may open the body, without the CRLF before it.
            carry: b"\r\n".to_vec(),
        }
    }

    /// Where `pattern` first ends in `chunk[pos..]`, counting a match that starts in
    /// the carried bytes; `None` keeps the tail that could start a match.
    fn find(&mut self, pattern: &[u8], chunk: &[u8], pos: usize) -> Option<usize> {
        let rest = &chunk[pos..];
        let head = &rest[..rest.len().min(pattern.len().saturating_sub(1))];
        if !self.carry.is_empty() {
            let mut window = self.carry.clone();
            window.extend_from_slice(head);
            if let Some(i) = memchr::memmem::find(&window, pattern) {
                let end = i + pattern.len() - self.carry.len();
                self.carry.clear();
                return Some(pos + end);
            }
        }
        if let Some(i) = memchr::memmem::find(rest, pattern) {
            self.carry.clear();
            return Some(pos + i + pattern.len());
        }
        let keep = pattern.len().saturating_sub(1);
        let mut tail = std::mem::take(&mut self.carry);
        tail.extend_from_slice(rest);
        let cut = tail.len().saturating_sub(keep);
        self.carry = tail.split_off(cut);
        None
    }

    fn over(&mut self, n: usize) -> Result<(), PartHeadersTooLarge> {
        self.count += n;
        if self.count > self.limit {
            return Err(PartHeadersTooLarge(self.limit));
        }
        Ok(())
    }

    fn check(&mut self, chunk: &[u8]) -> Result<(), PartHeadersTooLarge> {
        let mut pos = 0;
        while pos < chunk.len() {
            match self.scan {
                Scan::Epilogue => return Ok(()),
                Scan::Preamble | Scan::Content => {
                    let delimiter = std::mem::take(&mut self.delimiter);
                    let found = self.find(&delimiter, chunk, pos);
                    self.delimiter = delimiter;
                    let preamble = self.scan == Scan::Preamble;
                    match found {
                        Some(end) => {
                            if preamble {
                                self.over(end - pos)?;
                            }
                            self.scan = Scan::AfterDelimiter;
                            self.count = 0;
                            pos = end;
                        }
                        None => {
                            if preamble {
                                self.over(chunk.len() - pos)?;
                            }
                            return Ok(());
                        }
                    }
                }
                Scan::AfterDelimiter => {
                    self.carry.push(chunk[pos]);
                    pos += 1;
                    if self.carry.len() == 2 {
                        let closing = self.carry == b"--";
                        self.over(2)?;
                        self.scan = if closing {
                            Scan::Epilogue
                        } else {
                            Scan::Headers
                        };
                        if closing {
                            self.carry.clear();
                        }
                    }
                }
                Scan::Headers => {
                    let found = self.find(b"\r\n\r\n", chunk, pos);
                    match found {
                        Some(end) => {
                            self.over(end - pos)?;
                            self.scan = Scan::Content;
                            self.count = 0;
                            pos = end;
                            // A delimiter needs its own CRLF: the blank line's is used.
                            self.carry = b"\r\n".to_vec();
                        }
                        None => {
                            self.over(chunk.len() - pos)?;
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The body's data, checked by a [`HeaderGuard`], as the parser's input stream.
struct Guarded {
    body: RequestBody,
    guard: HeaderGuard,
}

impl futures_util::Stream for Guarded {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let me = self.get_mut();
        loop {
            let frame = match std::task::ready!(Pin::new(&mut me.body).poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(std::io::Error::other(e)))),
                Some(Ok(frame)) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            if let Err(e) = me.guard.check(&data) {
                return Poll::Ready(Some(Err(std::io::Error::other(e))));
            }
            return Poll::Ready(Some(Ok(data)));
        }
    }
}

/// Read a multipart body as it arrives, within `limits`.
pub(crate) async fn parse(
    body: RequestBody,
    headers: &HeaderMap,
    limits: &UploadLimits,
) -> Result<Parsed, HttpError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| HttpError::new(StatusCode::BAD_REQUEST, "Missing boundary in multipart."))?;
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body) {
        return Err(too_large(format!(
            "the body is over {} bytes",
            limits.max_body
        )));
    }
    let stream = Guarded {
        body,
        guard: HeaderGuard::new(&boundary, limits.max_part_headers),
    };
    // Per-part limits are checked below, where files and text fields are told apart.
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limits.max_body));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut parsed = Parsed::default();
    let mut parts = 0usize;
    let temp_dir = limits.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multer_error(e, limits)),
        };
        parts += 1;
        if parts > limits.max_parts {
            return Err(too_large(format!("more than {} parts", limits.max_parts)));
        }
        let name = field.name().unwrap_or("").to_owned();
        // A part with an empty file name is a file input left empty: Starlette reads it
        // as a text field, so it counts as no file.
        let filename = field
            .file_name()
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
        let Some(filename) = filename else {
            // A text field.
            let mut buf = BytesMut::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| multer_error(e, limits))? {
                if (buf.len() + chunk.len()) as u64 > limits.max_field {
                    return Err(too_large(format!(
                        "field `{name}` is over {} bytes",
                        limits.max_field
                    )));
                }
                buf.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(buf.to_vec())
                .map_err(|_| bad_body(&format!("field `{name}` is not UTF-8")))?;
            parsed.fields.push((name, text));
            continue;
        };
        let content_type = field.content_type().map(|m| m.to_string());
        let part_headers = field.headers().clone();
        let mut size = 0u64;
        let mut memory = BytesMut::new();
        let mut disk: Option<(TempPath, tokio::fs::File)> = None;
        while let Some(chunk) = field.chunk().await.map_err(|e| multer_error(e, limits))? {
            size += chunk.len() as u64;
            if size > limits.max_file {
                return Err(too_large(format!(
                    "file `{name}` is over {} bytes",
                    limits.max_file
                )));
            }
            match &mut disk {
                Some((_, file)) => file.write_all(&chunk).await.map_err(spool_error)?,
                None if memory.len() + chunk.len() > limits.spool_threshold => {
                    // Past the threshold: everything so far, and the rest, go to disk.
                    let (path, mut file) = create_temp(&temp_dir).await.map_err(spool_error)?;
                    file.write_all(&memory).await.map_err(spool_error)?;
                    file.write_all(&chunk).await.map_err(spool_error)?;
                    memory = BytesMut::new();
                    disk = Some((path, file));
                }
                None => memory.extend_from_slice(&chunk),
            }
        }
        let storage = match disk {
            Some((path, mut file)) => {
                file.flush().await.map_err(spool_error)?;
                Storage::Disk(path)
            }
            None => Storage::Memory(memory.freeze()),
        };
        parsed.files.push((
            name,
            UploadFile {
                filename: Some(filename),
                content_type,
                size,
                headers: part_headers,
                storage,
            },
        ));
    }
    Ok(parsed)
}

fn spool_error(e: std::io::Error) -> HttpError {
    tracing::error!(target: "hasten::uploads", error = %e, "cannot write an upload to disk");
    HttpError::plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

fn multer_error(e: multer::Error, limits: &UploadLimits) -> HttpError {
    match e {
        multer::Error::StreamSizeExceeded { .. } => {
            too_large(format!("the body is over {} bytes", limits.max_body))
        }
        multer::Error::FieldSizeExceeded { field_name, limit } => too_large(format!(
            "part `{}` is over {limit} bytes",
            field_name.unwrap_or_default(),
        )),
        multer::Error::StreamReadFailed(e)
            if crate::body::caused_by::<crate::body::BodyTimedOut>(&*e) =>
        {
            crate::extract::body::body_timeout_response()
        }
        multer::Error::StreamReadFailed(e)
            if crate::body::caused_by::<PartHeadersTooLarge>(&*e) =>
        {
            // A limit of hasten's (Starlette has none): say which.
            HttpError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "Invalid multipart data: part headers over {} bytes.",
                    limits.max_part_headers
                ),
            )
        }
        other => {
            tracing::debug!(target: "hasten::uploads", error = %other, "malformed multipart body");
            bad_body("the body is malformed")
        }
    }
}

fn take_file(ctx: &mut RequestCtx, name: &str) -> Option<UploadFile> {
    let files = &mut ctx.locals.get_mut::<Parsed>()?.files;
    let i = files.iter().position(|(n, _)| n == name)?;
    Some(files.remove(i).1)
}

fn loc(spec: &ParamSpec) -> Vec<LocItem> {
    vec![
        LocItem::Key("body".into()),
        LocItem::Key(spec.wire_name(Source::Form)),
    ]
}

fn describe_file(spec: &'static ParamSpec, doc: &mut OperationDoc, required: bool, many: bool) {
    // A file is any bytes, documented as FastAPI documents `UploadFile`.
    let one =
        serde_json::json!({ "type": "string", "contentMediaType": "application/octet-stream" });
    let schema = if many {
        serde_json::json!({ "type": "array", "items": one })
    } else {
        one
    };
    doc.params.push(ParamDoc {
        spec,
        source: Source::Form,
        name: spec.wire_name(Source::Form),
        required,
        schema,
        nullable: !required,
        title: None,
        definitions: Vec::new(),
        dependency: Vec::new(),
    });
}

/// No file under the parameter's name: the text sent under it instead, if any (the
/// last, as Starlette's form keeps it), not counting an empty one.
fn text_instead(ctx: &RequestCtx, spec: &ParamSpec) -> Option<String> {
    let name = spec.wire_name(Source::Form);
    let fields = ctx.form_fields()?;
    let (_, text) = fields.iter().rev().find(|(n, _)| *n == name)?;
    (!text.is_empty()).then(|| text.clone())
}

/// The error for text where a file was expected, in FastAPI's words.
fn not_a_file(text: String) -> ValidationError {
    ValidationError::new(
        "value_error",
        "Value error, Expected UploadFile, received: <class 'str'>",
        serde_json::Value::String(text),
    )
    .with_ctx(serde_json::json!({ "error": {} }))
}

impl FromRequest for UploadFile {
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::FormPart;

    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        ctx.form_pairs(errors).await?;
        let found = take_file(ctx, &spec.wire_name(Source::Form));
        if found.is_none() {
            let error = match text_instead(ctx, spec) {
                Some(text) => not_a_file(text),
                None => ValidationError::missing(),
            };
            errors.push(error.at(loc(spec)));
        }
        found
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_file(spec, doc, true, false);
    }
}

impl FromRequest for Option<UploadFile> {
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::FormPart;

    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        ctx.form_pairs(errors).await?;
        let found = take_file(ctx, &spec.wire_name(Source::Form));
        if found.is_none() {
            if let Some(text) = text_instead(ctx, spec) {
                errors.push(not_a_file(text).at(loc(spec)));
                return None;
            }
        }
        Some(found)
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_file(spec, doc, false, false);
    }
}

impl FromRequest for Vec<UploadFile> {
    const BODY: crate::extract::BodyUse = crate::extract::BodyUse::FormPart;

    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        ctx.form_pairs(errors).await?;
        let name = spec.wire_name(Source::Form);
        let mut out = Vec::new();
        while let Some(f) = take_file(ctx, &name) {
            out.push(f);
        }
        if out.is_empty() {
            errors.push(ValidationError::missing().at(loc(spec)));
            return None;
        }
        Some(out)
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_file(spec, doc, true, true);
    }
}
