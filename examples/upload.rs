//! File uploads: multipart forms with files and fields, kept in memory when small and
//! written to a temporary file while they arrive when large.
//!
//! Run with: `cargo run --release --example upload`, open http://127.0.0.1:8000/ for
//! a form, or:
//!
//! ```text
//! curl -F 'file=@Cargo.toml' -F 'description=the manifest' http://127.0.0.1:8000/files
//! curl -F 'files=@README.md' -F 'files=@Cargo.toml' http://127.0.0.1:8000/files/many
//! head -c 60000000 /dev/zero > /tmp/big && curl -F 'file=@/tmp/big' http://127.0.0.1:8000/files   # 413
//! ```

use hasten::prelude::*;
use hasten::uploads::{UploadFile, UploadLimits};

/// What was received.
#[derive(Serialize, JsonSchema)]
struct Received {
    filename: Option<String>,
    content_type: Option<String>,
    size: u64,
    /// Whether it was large enough to go to a temporary file.
    spooled: bool,
    /// FNV-1a of the content, to compare with the sender's.
    fnv1a: String,
    description: Option<String>,
}

async fn describe(file: &UploadFile, description: Option<String>) -> Result<Received, HttpError> {
    let bytes = file.bytes().await.map_err(|e| {
        tracing::error!(error = %e, "cannot read an upload back");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the upload")
    })?;
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    Ok(Received {
        filename: file.filename().map(str::to_owned),
        content_type: file.content_type().map(str::to_owned),
        size: file.size(),
        spooled: file.path().is_some(),
        fnv1a: format!("{hash:016x}"),
        description,
    })
}

/// Receive one file and an optional description.
#[post("/files")]
async fn upload(
    file: UploadFile,
    #[form(max_length = 200)] description: Option<String>,
) -> Result<Json<Received>, HttpError> {
    Ok(Json(describe(&file, description).await?))
}

/// Receive several files under one field name.
#[post("/files/many")]
async fn upload_many(files: Vec<UploadFile>) -> Result<Json<Vec<Received>>, HttpError> {
    let mut out = Vec::with_capacity(files.len());
    for f in &files {
        out.push(describe(f, None).await?);
    }
    Ok(Json(out))
}

/// A form to try it from a browser.
#[get("/")]
async fn page() -> Html<&'static str> {
    Html(
        r#"<!doctype html><meta charset="utf-8"><title>upload</title>
<form action="/files" method="post" enctype="multipart/form-data">
  <input type="file" name="file"> <input name="description" placeholder="description">
  <button>upload</button>
</form>"#,
    )
}

fn app() -> App {
    App::new()
        .title("Uploads")
        .upload_limits(UploadLimits {
            max_file: 50 << 20,
            max_body: 60 << 20,
            ..UploadLimits::default()
        })
        .route(upload)
        .route(upload_many)
        .route(page)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    hasten_examples::run(app()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hasten::testing::TestClient;
    use serde_json::{json, Value};

    fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, filename, data) in parts {
            body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"");
            body.extend_from_slice(name.as_bytes());
            body.push(b'"');
            if let Some(f) = filename {
                body.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        body
    }

    #[tokio::test]
    async fn small_and_large_files() {
        let c = TestClient::new(app());
        let big = vec![b'x'; 3 << 20];
        for (data, spooled) in [(&b"hello"[..], false), (&big[..], true)] {
            let resp = c
                .post("/files")
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body(form(&[
                    ("file", Some("f.txt"), data),
                    ("description", None, b"d"),
                ]))
                .send()
                .await;
            let got = resp.json::<Value>();
            assert_eq!(got["size"], data.len());
            assert_eq!(got["spooled"], spooled);
            assert_eq!(got["description"], "d");
        }
    }

    #[test]
    fn the_document_describes_a_multipart_body() {
        let service = app().build().unwrap();
        let doc = service.openapi();
        let body = &doc["paths"]["/files"]["post"]["requestBody"];
        // A form body is a `Body_<operationId>` component, as in FastAPI.
        let reference = &body["content"]["multipart/form-data"]["schema"]["$ref"];
        assert_eq!(reference, "#/components/schemas/Body_upload_files_post");
        let schema = &doc["components"]["schemas"]["Body_upload_files_post"];
        assert_eq!(
            schema["properties"]["file"]["contentMediaType"],
            "application/octet-stream"
        );
        assert_eq!(schema["required"], json!(["file"]));
        assert_eq!(
            schema["properties"]["description"]["anyOf"][0]["maxLength"],
            200
        );
    }
}
