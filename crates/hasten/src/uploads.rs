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
//! over any of them is a 413 naming the limit, and nothing past it is read.
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
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use crate::body::RequestBody;
use crate::extract::{Errors, Extracted, FromRequest, ParamSpec, RequestCtx, Source};
use crate::operation::{OperationDoc, ParamDoc};
use crate::validation::{LocItem, ValidationError};
use crate::HttpError;

/// Limits on a multipart body.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// The whole body (default 100 MiB).
    pub max_body: u64,
    /// One file (default 100 MiB).
    pub max_file: u64,
    /// One text field (default 1 MiB, Starlette's `max_part_size`).
    pub max_field: u64,
    /// Parts, files and fields together (default 1000).
    pub max_parts: usize,
    /// Files larger than this go to disk while they arrive (default 1 MiB).
    pub spool_threshold: usize,
    /// Where temporary files go (default: the system's temporary folder).
    pub temp_dir: Option<PathBuf>,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_body: 100 << 20,
            max_file: 100 << 20,
            max_field: 1 << 20,
            max_parts: 1000,
            spool_threshold: 1 << 20,
            temp_dir: None,
        }
    }
}

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

/// 413 naming the limit, with `Connection: close` so the rest is never read.
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

fn bad_body() -> HttpError {
    HttpError::new(
        StatusCode::BAD_REQUEST,
        "There was an error parsing the body",
    )
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_path(dir: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    dir.join(format!(
        "hasten-upload-{}-{n}-{nanos:08x}",
        std::process::id()
    ))
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
    let boundary = multer::parse_boundary(content_type).map_err(|_| bad_body())?;
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
    let stream = body.into_data_stream().map_err_to_io();
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
        let Some(filename) = field.file_name().map(str::to_owned) else {
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
            let text = String::from_utf8(buf.to_vec()).map_err(|_| bad_body())?;
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
                    let path = TempPath(Some(temp_path(&temp_dir)));
                    let mut file = tokio::fs::File::create(path.path())
                        .await
                        .map_err(spool_error)?;
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
        other => {
            tracing::debug!(target: "hasten::uploads", error = %other, "malformed multipart body");
            bad_body()
        }
    }
}

/// Data frames of a request body as a stream of `io::Result<Bytes>`.
trait IntoIoStream {
    fn map_err_to_io(
        self,
    ) -> futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;
}

impl<S> IntoIoStream for S
where
    S: futures_util::Stream<Item = Result<Bytes, crate::body::BoxError>> + Send + 'static,
{
    fn map_err_to_io(
        self,
    ) -> futures_util::stream::BoxStream<'static, Result<Bytes, std::io::Error>> {
        use futures_util::StreamExt;
        self.map(|r| r.map_err(std::io::Error::other)).boxed()
    }
}

fn take_file(ctx: &mut RequestCtx, name: &str) -> Option<UploadFile> {
    let files = &mut ctx.uploads.as_mut()?.files;
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
    let one = serde_json::json!({ "type": "string", "format": "binary" });
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
        nullable: false,
    });
}

impl FromRequest for UploadFile {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        ctx.form_pairs(errors).await?;
        let found = take_file(ctx, &spec.wire_name(Source::Form));
        if found.is_none() {
            errors.push(ValidationError::missing().at(loc(spec)));
        }
        found
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_file(spec, doc, true, false);
    }
}

impl FromRequest for Option<UploadFile> {
    async fn from_request(
        ctx: &mut RequestCtx,
        spec: &'static ParamSpec,
        errors: &mut Errors,
    ) -> Extracted<Self> {
        ctx.form_pairs(errors).await?;
        Some(take_file(ctx, &spec.wire_name(Source::Form)))
    }

    fn describe(spec: &'static ParamSpec, doc: &mut OperationDoc) {
        describe_file(spec, doc, false, false);
    }
}

impl FromRequest for Vec<UploadFile> {
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
