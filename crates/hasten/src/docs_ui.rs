//! The interactive documentation pages: Swagger UI at `/docs`, ReDoc at `/redoc`, and
//! Swagger UI's OAuth2 redirect page. Every asset is compiled into the binary (Swagger
//! UI from the release archive shipped by the `utoipa-swagger-ui-vendored` crate, ReDoc
//! from the standalone bundle shipped by the `aide` crate); no page loads anything
//! from another host. See `docs/decisions/0006-openapi-and-docs-ui.md`.

use std::collections::HashMap;

use bytes::Bytes;
#[cfg(any(feature = "swagger-ui", test))]
use serde_json::json;
use serde_json::Value;

/// Where the documentation is served, and how it looks.
#[derive(Debug, Clone)]
pub(crate) struct DocsConfig {
    pub(crate) openapi_url: Option<String>,
    pub(crate) docs_url: Option<String>,
    pub(crate) redoc_url: Option<String>,
    pub(crate) oauth2_redirect_url: Option<String>,
    pub(crate) swagger_ui_parameters: serde_json::Map<String, Value>,
}

impl Default for DocsConfig {
    fn default() -> Self {
        DocsConfig {
            openapi_url: Some("/openapi.json".to_owned()),
            docs_url: Some("/docs".to_owned()),
            redoc_url: Some("/redoc".to_owned()),
            oauth2_redirect_url: Some("/docs/oauth2-redirect".to_owned()),
            swagger_ui_parameters: serde_json::Map::new(),
        }
    }
}

/// A file served from memory.
#[derive(Debug, Clone)]
pub(crate) struct StaticFile {
    pub(crate) body: Bytes,
    pub(crate) content_type: &'static str,
    /// Assets may be cached; pages and the document are revalidated.
    pub(crate) immutable: bool,
}

impl StaticFile {
    #[cfg(any(feature = "swagger-ui", feature = "redoc"))]
    fn page(html: String) -> Self {
        StaticFile {
            body: Bytes::from(html),
            content_type: "text/html; charset=utf-8",
            immutable: false,
        }
    }

    #[allow(dead_code)] // unused when both UI features are off
    fn asset(body: &'static [u8], content_type: &'static str) -> Self {
        StaticFile {
            body: Bytes::from_static(body),
            content_type,
            immutable: true,
        }
    }
}

/// JSON for an inline `<script>`: `</` cannot end the script early.
#[cfg(any(feature = "swagger-ui", test))]
fn script_json(v: &Value) -> String {
    v.to_string().replace("</", "<\\/")
}

/// Text for HTML content.
#[cfg(any(feature = "swagger-ui", feature = "redoc"))]
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(feature = "swagger-ui")]
mod swagger {
    pub(super) const BUNDLE: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-swagger-ui-bundle.js"));
    pub(super) const CSS: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-swagger-ui.css"));
    pub(super) const REDIRECT_JS: &str =
        include_str!(concat!(env!("OUT_DIR"), "/swagger-oauth2-redirect.js"));
    pub(super) const FAVICON: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/swagger-favicon-32x32.png"));
}

/// Swagger UI's page (FastAPI's `get_swagger_ui_html`, with local assets).
#[cfg(feature = "swagger-ui")]
fn swagger_page(title: &str, docs_url: &str, openapi_url: &str, cfg: &DocsConfig) -> String {
    let mut params = serde_json::Map::new();
    params.insert("dom_id".into(), json!("#swagger-ui"));
    params.insert("layout".into(), json!("BaseLayout"));
    params.insert("deepLinking".into(), json!(true));
    params.insert("showExtensions".into(), json!(true));
    params.insert("showCommonExtensions".into(), json!(true));
    for (k, v) in &cfg.swagger_ui_parameters {
        params.insert(k.clone(), v.clone());
    }
    let redirect = match &cfg.oauth2_redirect_url {
        Some(u) => format!(
            "\n    oauth2RedirectUrl: window.location.origin + {},",
            script_json(&json!(u))
        ),
        None => String::new(),
    };
    let params = script_json(&Value::Object(params));
    let title = html_escape(&format!("{title} - Swagger UI"));
    let openapi_url = script_json(&json!(openapi_url));
    format!(
        r#"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<link type="text/css" rel="stylesheet" href="{docs_url}/swagger-ui.css">
<link rel="icon" type="image/png" href="{docs_url}/favicon.png">
<title>{title}</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{docs_url}/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle(Object.assign({{
    url: {openapi_url},{redirect}
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}}, {params}));
</script>
</body>
</html>
"#
    )
}

/// ReDoc's page: the standalone bundle as a separate, cacheable asset.
#[cfg(feature = "redoc")]
fn redoc_page(title: &str, redoc_url: &str, openapi_url: &str) -> String {
    let title = html_escape(&format!("{title} - ReDoc"));
    let openapi_url = html_escape(openapi_url);
    format!(
        r#"<!DOCTYPE html>
<html>
<head>
<title>{title}</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc requires JavaScript to be enabled.</noscript>
<redoc spec-url="{openapi_url}"></redoc>
<script src="{redoc_url}/redoc.standalone.js"></script>
</body>
</html>
"#
    )
}

/// The ReDoc standalone bundle, taken from the page `aide` renders around it.
#[cfg(feature = "redoc")]
fn redoc_bundle() -> Option<Bytes> {
    const START: &str = "<script>";
    const END: &str = "Redoc.init(";
    let page = aide::redoc::Redoc::new("").html();
    let start = page.find(START)? + START.len();
    let end = page.rfind(END)?;
    let js = page.get(start..end)?.trim();
    // The only asset the bundle would fetch from elsewhere is the vendor's logo in
    // the sidebar footer: an empty local image takes its place.
    let js = js.replace(
        "https://cdn.redoc.ly/redoc/logo-mini.svg",
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
    );
    (js.len() > 100_000).then(|| Bytes::from(js))
}

/// Swagger UI's OAuth2 redirect page, its script inline.
#[cfg(feature = "swagger-ui")]
fn oauth2_redirect_page() -> String {
    format!(
        "<!doctype html>\n<html lang=\"en-US\">\n<head><title>Swagger UI: OAuth2 Redirect</title></head>\n<body>\n<script>\n{}\n</script>\n</body>\n</html>\n",
        swagger::REDIRECT_JS.replace("</", "<\\/")
    )
}

/// Every file of the documentation, by path: the document itself and the pages the
/// configuration enables.
pub(crate) fn files(
    title: &str,
    document: &Value,
    cfg: &DocsConfig,
) -> HashMap<String, StaticFile> {
    let mut out = HashMap::new();
    let Some(openapi_url) = &cfg.openapi_url else {
        return out; // no document, no pages (as in FastAPI)
    };
    out.insert(
        openapi_url.clone(),
        StaticFile {
            body: Bytes::from(document.to_string()),
            content_type: "application/json",
            immutable: false,
        },
    );
    #[cfg(feature = "swagger-ui")]
    if let Some(docs) = &cfg.docs_url {
        let base = docs.trim_end_matches('/');
        out.insert(
            docs.clone(),
            StaticFile::page(swagger_page(title, base, openapi_url, cfg)),
        );
        out.insert(
            format!("{base}/swagger-ui-bundle.js"),
            StaticFile::asset(swagger::BUNDLE, "text/javascript; charset=utf-8"),
        );
        out.insert(
            format!("{base}/swagger-ui.css"),
            StaticFile::asset(swagger::CSS, "text/css; charset=utf-8"),
        );
        out.insert(
            format!("{base}/favicon.png"),
            StaticFile::asset(swagger::FAVICON, "image/png"),
        );
        if let Some(redirect) = &cfg.oauth2_redirect_url {
            out.insert(redirect.clone(), StaticFile::page(oauth2_redirect_page()));
        }
    }
    #[cfg(feature = "redoc")]
    if let Some(redoc) = &cfg.redoc_url {
        if let Some(bundle) = redoc_bundle() {
            let base = redoc.trim_end_matches('/');
            out.insert(
                redoc.clone(),
                StaticFile::page(redoc_page(title, base, openapi_url)),
            );
            out.insert(
                format!("{base}/redoc.standalone.js"),
                StaticFile {
                    body: bundle,
                    content_type: "text/javascript; charset=utf-8",
                    immutable: true,
                },
            );
        } else {
            tracing::error!(target: "hasten::docs", "the ReDoc bundle could not be found; /redoc is off");
        }
    }
    let _ = title;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        assert_eq!(script_json(&json!("</script>")), "\"<\\/script>\"");
    }

    #[cfg(feature = "redoc")]
    #[test]
    fn redoc_bundle_is_found() {
        let js = redoc_bundle().expect("bundle");
        assert!(!js.starts_with(b"<"));
        let js = std::str::from_utf8(&js).unwrap();
        assert!(js.contains("Redoc"));
        assert!(
            !js.contains("cdn.redoc.ly"),
            "the bundle must not load from a CDN"
        );
    }
}
