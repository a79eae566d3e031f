//! Multipart forms and uploads: fields and files, limits (413, no temporary file
//! left), and a 20 MB upload written to disk while it arrives.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hasten::prelude::*;
use hasten::testing::TestClient;
use hasten::uploads::{UploadFile, UploadLimits};
use hasten::Server;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDARY: &str = "hasten-test-boundary-7MA4YWxkTrZu0gW";

/// One part: field name, file name (for a file), content type, content.
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content_type, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = filename {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A file and a description.
#[post("/files")]
async fn upload(file: UploadFile, #[form] description: Option<String>) -> Json<Value> {
    let bytes = file.bytes().await.unwrap();
    let sum: u64 = bytes.iter().map(|b| u64::from(*b)).sum();
    Json(json!({
        "filename": file.filename(),
        "content_type": file.content_type(),
        "size": file.size(),
        "on_disk": file.path().is_some(),
        "sum": sum,
        "description": description,
    }))
}

/// Several files under one name.
#[post("/many")]
async fn many(files: Vec<UploadFile>) -> Json<Value> {
    Json(json!(files
        .iter()
        .map(|f| f.filename())
        .collect::<Vec<_>>()))
}

/// A form model sent as multipart.
#[derive(Deserialize, JsonSchema)]
struct Profile {
    name: String,
    age: u8,
}

#[post("/profile")]
async fn profile(form: Form<Profile>) -> String {
    format!("{} is {}", form.name, form.age)
}

/// A private folder for temporary files, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("hasten-uploads-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The temporary files in it, with their sizes.
    fn files(&self) -> Vec<u64> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Panics with the upload in hand.
#[post("/files/panic")]
async fn upload_then_panic(file: UploadFile) -> String {
    panic!("lost {} bytes", file.size())
}

/// Needs a number beside the file.
#[post("/files/numbered")]
async fn numbered(file: UploadFile, #[form] n: u32) -> String {
    format!("{} {n}", file.size())
}

fn app(temp: &Path) -> App {
    App::new()
        .route(upload_then_panic)
        .route(numbered)
        .upload_limits(UploadLimits {
            max_file: 32 << 20,
            max_body: 40 << 20,
            max_parts: 10,
            temp_dir: Some(temp.to_path_buf()),
            ..UploadLimits::default()
        })
        .route(upload)
        .route(many)
        .route(profile)
}

#[tokio::test]
async fn a_file_and_a_field() {
    let temp = TempDir::new("small");
    let c = TestClient::new(app(&temp.0));
    let body = multipart(&[
        ("file", Some("notes.txt"), Some("text/plain"), b"abc"),
        ("description", None, None, "mes notes".as_bytes()),
    ]);
    let resp = c
        .post("/files")
        .header("content-type", &content_type())
        .body(body)
        .send()
        .await;
    assert_eq!(
        resp.json::<Value>(),
        json!({"filename": "notes.txt", "content_type": "text/plain", "size": 3,
               "on_disk": false, "sum": 294, "description": "mes notes"})
    );
}

#[tokio::test]
async fn several_files_and_form_models() {
    let temp = TempDir::new("many");
    let c = TestClient::new(app(&temp.0));
    let body = multipart(&[
        ("files", Some("a.bin"), None, b"1"),
        ("files", Some("b.bin"), None, b"2"),
    ]);
    let resp = c
        .post("/many")
        .header("content-type", &content_type())
        .body(body)
        .send()
        .await;
    assert_eq!(resp.json::<Value>(), json!(["a.bin", "b.bin"]));

    let body = multipart(&[("name", None, None, b"ann"), ("age", None, None, b"41")]);
    let resp = c
        .post("/profile")
        .header("content-type", &content_type())
        .body(body)
        .send()
        .await;
    assert_eq!(resp.text(), "ann is 41");
    let body = multipart(&[("name", None, None, b"ann"), ("age", None, None, b"old")]);
    let resp = c
        .post("/profile")
        .header("content-type", &content_type())
        .body(body)
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail":[{"type":"int_parsing","loc":["body","age"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"old"}]})
    );
}

#[tokio::test]
async fn a_missing_file_is_a_422_and_a_broken_body_a_400() {
    let temp = TempDir::new("missing");
    let c = TestClient::new(app(&temp.0));
    let body = multipart(&[("description", None, None, b"no file")]);
    let resp = c
        .post("/files")
        .header("content-type", &content_type())
        .body(body)
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": [{"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": null}]})
    );
    let resp = c
        .post("/files")
        .header("content-type", "multipart/form-data")
        .body("no boundary")
        .send()
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn over_a_limit_is_413_and_leaves_no_temporary_file() {
    let temp = TempDir::new("limits");
    let c = TestClient::new(app(&temp.0));
    // A file over max_file (32 MiB): it went to disk on the way, and is gone.
    let big = vec![7u8; 33 << 20];
    let body = multipart(&[("file", Some("big.bin"), None, &big)]);
    let resp = c
        .post("/files")
        .header("content-type", &content_type())
        .body(body)
        .send()
        .await;
    assert_eq!(resp.status(), 413);
    let detail = resp.json::<Value>()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("file `file` is over 33554432 bytes"),
        "{detail}"
    );
    assert_eq!(
        temp.files(),
        Vec::<u64>::new(),
        "a temporary file was left behind"
    );

    // Too many parts.
    let parts: Vec<Part<'_>> = (0..11).map(|_| ("x", None, None, &b"1"[..])).collect();
    let resp = c
        .post("/files")
        .header("content-type", &content_type())
        .body(multipart(&parts))
        .send()
        .await;
    assert_eq!(resp.status(), 413);
    assert!(resp.text().contains("more than 10 parts"));
}

#[tokio::test]
async fn a_20_mb_upload_goes_to_disk_while_it_arrives() {
    let temp = TempDir::new("stream");
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(app(&temp.0)));

    let data = vec![1u8; 20 << 20];
    let body = multipart(&[("file", Some("video.bin"), Some("video/mp4"), &data)]);
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /files HTTP/1.1\r\nhost: x\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
        content_type(),
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // Half of it: by then the file is on disk, not in memory.
    let half = body.len() / 2;
    s.write_all(&body[..half]).await.unwrap();
    let on_disk = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let sizes = temp.files();
            if sizes.iter().any(|n| *n >= 8 << 20) {
                return sizes;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("half the upload should be in a temporary file");
    assert_eq!(on_disk.len(), 1);
    s.write_all(&body[half..]).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if out.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&out);
    let json: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["size"], 20 << 20);
    assert_eq!(json["on_disk"], true);
    assert_eq!(json["sum"], 20 << 20);
    // The request is over: the temporary file is gone.
    let gone = tokio::time::timeout(Duration::from_secs(5), async {
        while !temp.files().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "temporary file left: {:?}", temp.files());
}

/// Wait (bounded) until the temporary folder holds no file.
async fn no_temporary_file_left(temp: &TempDir) {
    let gone = tokio::time::timeout(Duration::from_secs(10), async {
        while !temp.files().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "temporary file left: {:?}", temp.files());
}

#[tokio::test]
async fn an_upload_abandoned_half_way_leaves_no_temporary_file() {
    let temp = TempDir::new("abandoned");
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.serve(app(&temp.0)));
    let data = vec![3u8; 8 << 20];
    let body = multipart(&[("file", Some("half.bin"), None, &data)]);
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /files HTTP/1.1\r\nhost: x\r\ncontent-type: {}\r\ncontent-length: {}\r\n\r\n",
        content_type(),
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body[..body.len() / 2]).await.unwrap();
    // The file is being written to disk …
    tokio::time::timeout(Duration::from_secs(10), async {
        while temp.files().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the upload never reached the disk");
    // … when the client goes away.
    drop(s);
    no_temporary_file_left(&temp).await;
}

#[tokio::test]
async fn a_handler_that_panics_with_an_upload_leaves_no_temporary_file() {
    let temp = TempDir::new("panic");
    let c = TestClient::new(app(&temp.0));
    let data = vec![4u8; 2 << 20]; // past the spool threshold: on disk
    let resp = c
        .post("/files/panic")
        .header("content-type", &content_type())
        .body(multipart(&[("file", Some("p.bin"), None, &data)]))
        .send()
        .await;
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.text(), "Internal Server Error");
    no_temporary_file_left(&temp).await;
}

#[tokio::test]
async fn an_upload_refused_for_another_field_leaves_no_temporary_file() {
    let temp = TempDir::new("refused");
    let c = TestClient::new(app(&temp.0));
    let data = vec![5u8; 2 << 20];
    let resp = c
        .post("/files/numbered")
        .header("content-type", &content_type())
        .body(multipart(&[
            ("file", Some("n.bin"), None, &data),
            ("n", None, None, b"many"),
        ]))
        .send()
        .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>(),
        json!({"detail": [{"type": "int_parsing", "loc": ["body", "n"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "many"}]})
    );
    no_temporary_file_left(&temp).await;
}
