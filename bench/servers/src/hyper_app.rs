//! The benchmark endpoints in raw hyper 1: the ceiling. The typed endpoint is the
//! hand-written equivalent of hasten's (path, query, header, JSON body, the same
//! checks, a JSON answer). Generic over the request body so that the server
//! (`Incoming`) and the in-process instruction count (`Full<Bytes>`) run the same code.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};

use crate::{Message, Order, TypedQuery, HELLO, WAIT};

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

async fn typed<B: hyper::body::Body>(req: Request<B>, id: &str) -> Response<Full<Bytes>> {
    let invalid = || {
        respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text/plain",
            "invalid input",
        )
    };
    let Ok(id) = id.parse::<u32>() else {
        return invalid();
    };
    let Ok(query) = serde_urlencoded::from_str::<TypedQuery>(req.uri().query().unwrap_or(""))
    else {
        return invalid();
    };
    let Some(client) = req
        .headers()
        .get("x-client")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return invalid();
    };
    let Ok(body) = req.into_body().collect().await else {
        return invalid();
    };
    let Ok(order) = serde_json::from_slice::<Order>(&body.to_bytes()) else {
        return invalid();
    };
    if let Err(fields) = crate::check(id, &query, &order) {
        let body = serde_json::to_vec(&serde_json::json!({ "detail": fields })).unwrap_or_default();
        return respond(StatusCode::UNPROCESSABLE_ENTITY, "application/json", body);
    }
    let body = serde_json::to_vec(&crate::receipt(id, client, query, order)).unwrap_or_default();
    respond(StatusCode::OK, "application/json", body)
}

/// Every endpoint: the service the hyper server runs per request.
pub async fn handle<B: hyper::body::Body>(
    req: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    Ok(match path.as_str() {
        "/plaintext" => respond(StatusCode::OK, "text/plain; charset=utf-8", HELLO),
        "/json" => respond(
            StatusCode::OK,
            "application/json",
            serde_json::to_vec(&Message { message: HELLO }).unwrap_or_default(),
        ),
        "/io" => {
            tokio::time::sleep(WAIT).await;
            respond(StatusCode::OK, "text/plain", "done")
        }
        "/sync" => {
            let _ = tokio::task::spawn_blocking(|| std::thread::sleep(WAIT)).await;
            respond(StatusCode::OK, "text/plain", "done")
        }
        p => match p.strip_prefix("/typed/") {
            Some(id) if req.method() == hyper::Method::POST => typed(req, id).await,
            _ => respond(StatusCode::NOT_FOUND, "text/plain", "Not Found"),
        },
    })
}
