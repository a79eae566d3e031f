//! The crate's modules stand on floors, and no module imports one on a higher floor:
//! request-time code (extractors, dependencies, background tasks) knows the app only
//! through the runtime, never the app or its dispatch. The floors are those of
//! `docs/decisions/0015-layout.md`; this test reads every `crate::` path in `src/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each module's floor, bottom first. A source file of a module not listed fails the
/// test: a new module gets a floor when it is added.
const FLOORS: &[(u8, &[&str])] = &[
    // What every layer may use: bodies, responses and errors, validation.
    (
        1,
        &[
            "body",
            "future",
            "error",
            "panics",
            "random",
            "response",
            // The spans of a traced request, and their export.
            "trace",
            "otel",
            "response_model",
            "validation",
        ],
    ),
    // What a request has: its body read within limits; the app as request-time code
    // sees it, with its error handlers and what they answer.
    // What the app measures of itself (metrics).
    (
        2,
        &["extract/body", "runtime", "raise", "problem", "metrics"],
    ),
    // Features: extractors and what they extract.
    (
        3,
        &[
            "extract",
            "extract/locals",
            "extract/model",
            "extract/param",
            "extract/request",
            "depends",
            "background",
            // Rooms across instances, through a broker.
            "channels",
            "channels/redis",
            "channels/postgres",
            // Durable jobs: made like a request's parameters, run outside any.
            "jobs",
            "jobs/schedule",
            "jobs/store",
            "jobs/worker",
            "jobs/redis",
            "blocking",
            "security",
            "ws",
            "uploads",
            "form",
            "json",
            "set_response",
            "request_id",
            "streaming",
            "files",
            "validate",
            "openapi/model",
            "openapi/describe",
        ],
    ),
    // Operations and their tables, middleware, the document.
    (
        4,
        &[
            "operation",
            "routing",
            "router",
            "middleware",
            "mount",
            "lifespan",
            "health",
            "settings",
            "openapi",
            "openapi/style",
            "docs_ui",
            // Rate limits wrap an operation's handler; sessions are app middleware.
            "rate_limit",
            "rate_limit/redis",
            "sessions",
            "sessions/redis",
        ],
    ),
    // The way of a request: dispatch, the handler's future, the end of the request.
    (5, &["pipeline"]),
    // The app: its builder and the built service.
    (6, &["app"]),
    // What serves an app.
    (7, &["server", "connection", "tls", "testing", "lib"]),
];

/// Imports that still run up, each with the step that removes it. The list only
/// shrinks: an entry that no longer occurs fails the test too.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "body",
        "connection",
        "a timed body is one of `RequestBody`'s kinds (decision 0009's hot path)",
    ),
    (
        "runtime",
        "operation",
        "`ErrorContext::operation` names the operation's metadata",
    ),
    (
        "validation",
        "extract",
        "body validation reports into the extractors' error collector",
    ),
    (
        "ws",
        "connection",
        "the handshake marks its connection upgraded (the connection's activity and slot)",
    ),
    (
        "extract",
        "operation",
        "`RequestCtx` names the operation's metadata, which moves to `extract/spec`",
    ),
];

fn floor(module: &str) -> Option<u8> {
    FLOORS
        .iter()
        .find(|(_, mods)| mods.contains(&module))
        .map(|(f, _)| *f)
}

/// `src/a/b.rs` → `a/b`; `src/a/mod.rs` → `a`; nested files count as their parent
/// (`validation/lax.rs` is `validation`) unless the parent lists them.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let full = parts.join("/");
    if floor(&full).is_some() || parts.len() == 1 {
        full
    } else {
        parts[0].clone()
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a `crate::` path names: `crate::extract::body::x` is `extract/body` when
/// that is a module of its own, else `extract`.
fn target(segments: &[&str]) -> String {
    let two = segments
        .iter()
        .take(2)
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if segments.len() > 1 && floor(&two).is_some() {
        two
    } else {
        segments[0].to_owned()
    }
}

/// Every module named by a `crate::` path in `code` (in `use` lists too), tests left
/// out.
fn imports(code: &str) -> BTreeSet<String> {
    let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or(code);
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if rest.starts_with('{') {
            // `use crate::{a::X, b::{Y, Z}}`: each first segment.
            let end = rest.find("};").unwrap_or(rest.len());
            let mut depth = 0;
            let mut item = String::new();
            for ch in rest[..end].chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        if depth == 2 {
                            push_path(&mut found, &item);
                        }
                    }
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        push_path(&mut found, &item);
                        item.clear();
                    }
                    _ if depth == 1 => item.push(ch),
                    _ => {}
                }
            }
            push_path(&mut found, &item);
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        push_path(&mut found, &path);
    }
    found
}

fn push_path(found: &mut BTreeSet<String>, path: &str) {
    let segments: Vec<&str> = path.trim().split("::").filter(|s| !s.is_empty()).collect();
    // A lower-case first segment is a module; `crate::Foo` is a root re-export.
    if segments
        .first()
        .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_lowercase()))
    {
        found.insert(target(&segments));
    }
}

#[test]
fn no_module_imports_one_on_a_higher_floor() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut unplaced = BTreeSet::new();
    let mut upward = Vec::new();
    let mut known_seen = BTreeSet::new();
    for file in &files {
        let from = module_of(&src, file);
        let Some(from_floor) = floor(&from) else {
            unplaced.insert(from);
            continue;
        };
        let code = std::fs::read_to_string(file).unwrap();
        for to in imports(&code) {
            // Not a module: a root item in lower case (the route macros).
            let Some(to_floor) = floor(&to) else {
                continue;
            };
            if to_floor <= from_floor || from.starts_with(&format!("{to}/")) {
                continue;
            }
            if KNOWN.iter().any(|(f, t, _)| *f == from && *t == to) {
                known_seen.insert((from.clone(), to.clone()));
                continue;
            }
            upward.push(format!(
                "{} (floor {from_floor}) imports {to} (floor {to_floor})",
                file.strip_prefix(&src).unwrap().display()
            ));
        }
    }
    assert!(unplaced.is_empty(), "modules without a floor: {unplaced:?}");
    assert!(
        upward.is_empty(),
        "imports that run up:\n{}",
        upward.join("\n")
    );
    let stale: Vec<_> = KNOWN
        .iter()
        .filter(|(f, t, _)| !known_seen.contains(&((*f).to_owned(), (*t).to_owned())))
        .collect();
    assert!(
        stale.is_empty(),
        "known exceptions that no longer occur: {stale:?}"
    );
}

#[test]
fn request_time_code_knows_the_app_only_through_the_runtime() {
    // The rule the floors exist for, spelled out: extractors, dependencies and
    // background tasks never reach into the app or its dispatch.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let from = module_of(&src, &file);
        let request_time = from == "extract"
            || from.starts_with("extract/")
            || from == "depends"
            || from == "background";
        if !request_time {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        let reached: Vec<_> = imports(&code)
            .into_iter()
            .filter(|m| m == "app" || m == "pipeline" || m.starts_with("pipeline/"))
            .collect();
        assert!(reached.is_empty(), "{} reaches {reached:?}", file.display());
    }
}

#[test]
fn the_reader_finds_paths_in_use_lists_and_code() {
    let code = "use crate::{body::Body, extract::{Errors, RequestCtx}, Response};\n\
                fn f() { crate::runtime::Runtime::new(); let _ = crate::extract::body::read; }";
    let found: Vec<_> = imports(code).into_iter().collect();
    assert_eq!(found, ["body", "extract", "extract/body", "runtime"]);
}
