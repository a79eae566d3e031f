//! Streamed responses: any stream of bytes, Server-Sent Events, JSON Lines.
//!
//! The body is pulled from the stream only as fast as the client reads it: a slow
//! client holds the producer back instead of making the server buffer, and a client
//! that goes away drops the stream (its producer stops).
//!
//! ```
//! use std::time::Duration;
//! use hasten::prelude::*;
//! use hasten::streaming::{stream, AnyStream, Event, JsonLines, Sse, StreamExt};
//!
//! /// Three events, then the stream ends.
//! #[get("/events")]
//! async fn events() -> Sse<impl AnyStream<Item = Event> + Send> {
//!     Sse::new(stream::iter(1..=3).map(|n| Event::json(&n).event("tick").id(n.to_string())))
//! }
//!
//! /// One JSON document per line.
//! #[get("/items.jsonl")]
//! async fn items() -> JsonLines<impl AnyStream<Item = serde_json::Value> + Send> {
//!     JsonLines::new(stream::iter([serde_json::json!({"id": 1}), serde_json::json!({"id": 2})]))
//! }
//! # let _ = App::new().route(events).route(items).build().unwrap();
//! ```

use std::fmt::Write as _;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::HeaderValue;
use http_body::Frame;
use serde::Serialize;

/// Stream tools, re-exported so apps need no extra dependency.
pub use futures_util::stream::{self, Stream as AnyStream, StreamExt};

use crate::body::{Body, BoxError};
use crate::openapi::describe::DescribeResponse;
use crate::openapi::model::{ResponseDoc, SchemaDoc};
use crate::response::{IntoResponse, Response};

/// FastAPI's keep-alive interval for Server-Sent Events.
pub const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The keep-alive comment FastAPI sends.
const PING: &[u8] = b": ping\n\n";

/// A body read from a stream of byte chunks.
struct StreamBody<S>(Pin<Box<S>>);

impl<S, B, E> http_body::Body for StreamBody<S>
where
    S: Stream<Item = Result<B, E>> + Send,
    B: Into<Bytes>,
    E: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.0.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b.into())))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Body {
    /// A body from a stream of byte chunks; an `Err` item aborts the response.
    pub fn from_stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        Body::new(StreamBody(Box::pin(stream)))
    }
}

/// A response streamed from any stream of byte chunks (Starlette's
/// `StreamingResponse`), `application/octet-stream` unless told otherwise.
pub struct StreamingResponse {
    body: Body,
    content_type: HeaderValue,
}

impl std::fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl StreamingResponse {
    /// Stream `stream`'s chunks; an `Err` item aborts the response (the client sees
    /// the connection end before the body does).
    pub fn new<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        StreamingResponse {
            body: Body::from_stream(stream),
            content_type: HeaderValue::from_static("application/octet-stream"),
        }
    }

    /// Set the `Content-Type`.
    pub fn content_type(mut self, content_type: HeaderValue) -> Self {
        self.content_type = content_type;
        self
    }
}

impl IntoResponse for StreamingResponse {
    fn into_response(self) -> Response {
        let mut resp = Response::new(self.body);
        resp.headers_mut().insert(CONTENT_TYPE, self.content_type);
        resp
    }
}

/// One Server-Sent Event. Fields are written in FastAPI's order: comment, `event:`,
/// `data:` (one line per line of data), `id:`, `retry:`, then a blank line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    comment: Option<String>,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

/// Line breaks would end the field early: they become spaces.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

impl Event {
    /// An event whose data is `value` as JSON (FastAPI's `data=`: a string is sent
    /// quoted).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        Event {
            data: Some(serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())),
            ..Event::default()
        }
    }

    /// An event whose data is `text` as is (FastAPI's `raw_data=`); each line of it
    /// becomes a `data:` line.
    pub fn raw(text: impl Into<String>) -> Self {
        Event {
            data: Some(text.into()),
            ..Event::default()
        }
    }

    /// A comment, ignored by `EventSource` clients (handy as a keep-alive).
    pub fn comment(text: impl Into<String>) -> Self {
        Event {
            comment: Some(text.into()),
            ..Event::default()
        }
    }

    /// The event type (`addEventListener(name, …)` in a browser).
    pub fn event(mut self, name: impl AsRef<str>) -> Self {
        self.event = Some(one_line(name.as_ref()));
        self
    }

    /// The event id (sent back as `Last-Event-ID` when the browser reconnects).
    pub fn id(mut self, id: impl AsRef<str>) -> Self {
        self.id = Some(one_line(id.as_ref()).replace('\0', ""));
        self
    }

    /// How long the browser waits before reconnecting.
    pub fn retry(mut self, after: Duration) -> Self {
        self.retry = Some(after.as_millis() as u64);
        self
    }

    /// The event on the wire.
    pub fn encode(&self) -> Bytes {
        fn lines(s: &str) -> impl Iterator<Item = &str> {
            // The SSE line terminators: \r\n, \r, \n.
            s.split("\r\n").flat_map(|l| l.split(['\r', '\n']))
        }
        let mut out = String::new();
        if let Some(c) = &self.comment {
            for line in lines(c) {
                let _ = writeln!(out, ": {line}");
            }
        }
        if let Some(e) = &self.event {
            let _ = writeln!(out, "event: {e}");
        }
        if let Some(d) = &self.data {
            for line in lines(d) {
                let _ = writeln!(out, "data: {line}");
            }
        }
        if let Some(id) = &self.id {
            let _ = writeln!(out, "id: {id}");
        }
        if let Some(r) = self.retry {
            let _ = writeln!(out, "retry: {r}");
        }
        out.push('\n');
        Bytes::from(out)
    }
}

/// A Server-Sent Events response (FastAPI's `EventSourceResponse`):
/// `text/event-stream; charset=utf-8`, `Cache-Control: no-cache`,
/// `X-Accel-Buffering: no`, and a `: ping` comment after 15 s without an event.
pub struct Sse<S> {
    events: S,
    keep_alive: Option<Duration>,
}

impl<S> std::fmt::Debug for Sse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sse")
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl<S: Stream<Item = Event> + Send + 'static> Sse<S> {
    /// Stream `events`.
    pub fn new(events: S) -> Self {
        Sse {
            events,
            keep_alive: Some(SSE_KEEP_ALIVE),
        }
    }

    /// Send the keep-alive comment after `every` without an event (`None`: never).
    pub fn keep_alive(mut self, every: Option<Duration>) -> Self {
        self.keep_alive = every;
        self
    }
}

/// The events, encoded, with a ping whenever the stream is quiet for a period.
struct WithPings<S> {
    events: Pin<Box<S>>,
    every: Option<Duration>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S: Stream<Item = Event>> Stream for WithPings<S> {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.events.as_mut().poll_next(cx) {
            Poll::Ready(Some(event)) => {
                if let (Some(every), Some(timer)) = (this.every, this.timer.as_mut()) {
                    timer.as_mut().reset(tokio::time::Instant::now() + every);
                }
                return Poll::Ready(Some(Ok(event.encode())));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        let Some(every) = this.every else {
            return Poll::Pending;
        };
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                timer.as_mut().reset(tokio::time::Instant::now() + every);
                Poll::Ready(Some(Ok(Bytes::from_static(PING))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: Stream<Item = Event> + Send + 'static> IntoResponse for Sse<S> {
    fn into_response(self) -> Response {
        let stream = WithPings {
            events: Box::pin(self.events),
            every: self.keep_alive,
            timer: None,
        };
        let mut resp = Response::new(Body::from_stream(stream));
        let h = resp.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        resp
    }
}

impl<S> DescribeResponse for Sse<S> {
    fn describe_response() -> ResponseDoc {
        ResponseDoc {
            content_type: Some("text/event-stream"),
            schema: SchemaDoc::Inline(serde_json::json!({
                "type": "object",
                "properties": {
                    "data": { "type": "string" },
                    "event": { "type": "string" },
                    "id": { "type": "string" },
                    "retry": { "type": "integer", "minimum": 0 }
                }
            })),
            status: None,
        }
    }
}

/// A JSON Lines response (`application/jsonl`): each item as JSON on its own line.
/// An item that cannot be serialised ends the response early (and is logged).
pub struct JsonLines<S> {
    items: S,
}

impl<S> std::fmt::Debug for JsonLines<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines").finish_non_exhaustive()
    }
}

impl<S, T> JsonLines<S>
where
    S: Stream<Item = T> + Send + 'static,
    T: Serialize,
{
    /// Stream `items`.
    pub fn new(items: S) -> Self {
        JsonLines { items }
    }
}

impl<S, T> IntoResponse for JsonLines<S>
where
    S: Stream<Item = T> + Send + 'static,
    T: Serialize,
{
    fn into_response(self) -> Response {
        let lines = self.items.map(|item| {
            let mut line = serde_json::to_vec(&item).map_err(|e| {
                tracing::error!(target: "hasten::streaming", error = %e, "a JSON Lines item cannot be serialised");
                BoxError::from(e)
            })?;
            line.push(b'\n');
            Ok::<_, BoxError>(Bytes::from(line))
        });
        let mut resp = Response::new(Body::from_stream(lines));
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
        resp
    }
}

impl<S> DescribeResponse for JsonLines<S> {
    fn describe_response() -> ResponseDoc {
        ResponseDoc {
            content_type: Some("application/jsonl"),
            schema: SchemaDoc::Inline(serde_json::json!({})),
            status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_framed_like_fastapi() {
        let e = Event::json(&"hello")
            .event("greeting")
            .id("7")
            .retry(Duration::from_millis(1500));
        assert_eq!(
            &e.encode()[..],
            b"event: greeting\ndata: \"hello\"\nid: 7\nretry: 1500\n\n"
        );
        assert_eq!(
            &Event::raw("a\nb\r\nc").encode()[..],
            b"data: a\ndata: b\ndata: c\n\n"
        );
        assert_eq!(&Event::comment("x").encode()[..], b": x\n\n");
        // A line break cannot smuggle a field in.
        assert_eq!(
            &Event::raw("d").event("a\ndata: evil").encode()[..],
            b"event: a data: evil\ndata: d\n\n"
        );
    }
}
