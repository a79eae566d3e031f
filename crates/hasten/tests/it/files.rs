//! Files: FileResponse (types, validators, 304, 206, 416) and StaticFiles (index
//! files, no way out of the folder).

use std::path::{Path, PathBuf};

use hasten::files::{FileResponse, StaticFiles};
use hasten::prelude::*;
use hasten::testing::TestClient;

/// A scratch folder, removed at the end of the test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hasten-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("public/docs")).unwrap();
        std::fs::write(dir.join("public/hello.txt"), "hello, world\n").unwrap();
        std::fs::write(dir.join("public/docs/index.html"), "<h1>docs</h1>").unwrap();
        std::fs::write(dir.join("public/404.html"), "<h1>missing</h1>").unwrap();
        std::fs::write(dir.join("secret.txt"), "do not serve").unwrap();
        let digits: String = (0..100)
            .map(|i| char::from(b'0' + (i % 10) as u8))
            .collect();
        std::fs::write(dir.join("digits.txt"), digits).unwrap();
        Scratch(dir)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The scratch folder, as app state.
struct Folder(PathBuf);

/// `digits.txt`, as a download.
#[get("/digits")]
async fn digits(folder: State<Folder>) -> FileResponse {
    FileResponse::new(folder.0 .0.join("digits.txt")).filename("digits.txt")
}

/// A file that is not there.
#[get("/gone")]
async fn gone(folder: State<Folder>) -> FileResponse {
    FileResponse::new(folder.0 .0.join("gone.txt"))
}

fn app(dir: &Path) -> App {
    App::new()
        .state(Folder(dir.to_path_buf()))
        .route(digits)
        .route(gone)
        .mount("/static", StaticFiles::new(dir.join("public")).html(true))
        .mount("/raw", StaticFiles::new(dir.join("public")))
}

#[tokio::test]
async fn file_response_headers_and_validators() {
    let s = Scratch::new("headers");
    let c = TestClient::new(app(&s.0));
    let resp = c.get("/digits").send().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().len(), 100);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("content-length"), Some("100"));
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));
    assert_eq!(
        resp.header("content-disposition"),
        Some("attachment; filename=\"digits.txt\"")
    );
    let etag = resp.header("etag").unwrap().to_owned();
    let modified = resp.header("last-modified").unwrap().to_owned();
    assert!(modified.ends_with(" GMT"), "{modified}");

    let resp = c.get("/digits").header("if-none-match", &etag).send().await;
    assert_eq!(resp.status(), 304);
    assert!(resp.bytes().is_empty());
    let resp = c
        .get("/digits")
        .header("if-modified-since", &modified)
        .send()
        .await;
    assert_eq!(resp.status(), 304);
    let resp = c
        .get("/digits")
        .header("if-none-match", "\"other\"")
        .send()
        .await;
    assert_eq!(resp.status(), 200);
    let resp = c.get("/gone").send().await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>(),
        serde_json::json!({"detail": "Not Found"})
    );
}

#[tokio::test]
async fn ranges_give_206_and_416() {
    let s = Scratch::new("ranges");
    let c = TestClient::new(app(&s.0));
    let resp = c.get("/digits").header("range", "bytes=10-14").send().await;
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.text(), "01234");
    assert_eq!(resp.header("content-range"), Some("bytes 10-14/100"));
    assert_eq!(resp.header("content-length"), Some("5"));
    let resp = c.get("/digits").header("range", "bytes=-3").send().await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (206, "789".to_owned())
    );
    let resp = c.get("/digits").header("range", "bytes=100-").send().await;
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.header("content-range"), Some("bytes */100"));
    // If-Range with a stale validator: the whole file.
    let resp = c
        .get("/digits")
        .header("range", "bytes=0-0")
        .header("if-range", "\"stale\"")
        .send()
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().len(), 100);
    // HEAD: the headers, no body.
    let resp = c.head("/digits").header("range", "bytes=0-9").send().await;
    assert_eq!(resp.status(), 206);
    assert!(resp.bytes().is_empty());
}

#[tokio::test]
async fn static_files_and_index_pages() {
    let s = Scratch::new("static");
    let c = TestClient::new(app(&s.0));
    let resp = c.get("/static/hello.txt").send().await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (200, "hello, world\n".to_owned())
    );
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let resp = c.get("/static/docs").send().await;
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.header("location"), Some("/static/docs/"));
    let resp = c.get("/static/docs/").send().await;
    assert_eq!(resp.text(), "<h1>docs</h1>");
    let resp = c.get("/static/nope.txt").send().await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (404, "<h1>missing</h1>".to_owned())
    );
    // Without html mode: plain 404, no index.
    let resp = c.get("/raw/docs/").send().await;
    assert_eq!(
        (resp.status().as_u16(), resp.text()),
        (404, "Not Found".to_owned())
    );
    let resp = c.post("/raw/hello.txt").send().await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.header("allow"), Some("GET, HEAD"));
    assert_eq!(resp.text(), "Method Not Allowed");
}

#[tokio::test]
async fn no_way_out_of_the_folder() {
    let s = Scratch::new("escape");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(s.path("secret.txt"), s.path("public/link.txt")).unwrap();
        std::os::unix::fs::symlink(s.path("public/hello.txt"), s.path("public/inside.txt"))
            .unwrap();
    }
    let c = TestClient::new(app(&s.0));
    for path in [
        "/raw/../secret.txt",
        "/raw/%2e%2e/secret.txt",
        "/raw/%2E%2E%2Fsecret.txt",
        "/raw/docs/..%2F..%2Fsecret.txt",
        "/raw/..%5Csecret.txt",
        "/raw/%00",
        "/raw/link.txt",
    ] {
        let resp = c.get(path).send().await;
        assert_eq!(resp.status(), 404, "{path}");
        assert!(!resp.text().contains("do not serve"), "{path}");
    }
    // A link that stays inside is fine.
    #[cfg(unix)]
    assert_eq!(
        c.get("/raw/inside.txt").send().await.text(),
        "hello, world\n"
    );
}
