//! Request and response bodies.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;

/// A boxed error, as carried by streaming bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Whether `e`, or anything it wraps (through `io::Error`s too), is a `T`.
pub(crate) fn caused_by<T: std::error::Error + 'static>(
    e: &(dyn std::error::Error + 'static),
) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<T>() {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if caused_by::<T>(inner) {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// The body of a response: empty, one buffer, or a stream.
#[derive(Debug, Default)]
pub struct Body {
    inner: Inner,
}

#[derive(Default)]
enum Inner {
    #[default]
    Empty,
    Full(Option<Bytes>),
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inner::Empty => f.write_str("Empty"),
            Inner::Full(b) => write!(f, "Full({} bytes)", b.as_ref().map_or(0, Bytes::len)),
            Inner::Boxed(_) => f.write_str("Stream"),
        }
    }
}

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Body {
            inner: Inner::Empty,
        }
    }

    /// A body of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Body::empty();
        }
        Body {
            inner: Inner::Full(Some(bytes)),
        }
    }

    /// A body from any [`http_body::Body`] (a stream).
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            inner: Inner::Boxed(body.map_err(Into::into).boxed_unsync()),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::full(b)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::full(s)
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::full(v)
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::full(Bytes::from_static(s.as_bytes()))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().inner {
            Inner::Empty => Poll::Ready(None),
            Inner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Inner::Boxed(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Empty => true,
            Inner::Full(b) => b.is_none(),
            Inner::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Empty => SizeHint::with_exact(0),
            Inner::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Boxed(b) => b.size_hint(),
        }
    }
}

/// The body of a request: hyper's connection body, a buffer, or any other stream.
#[derive(Debug)]
pub struct RequestBody {
    inner: ReqInner,
}

enum ReqInner {
    Incoming(hyper::body::Incoming),
    /// From a hasten server: with the body timeout and the minimum rate.
    Timed(crate::connection::TimedIncoming),
    Full(Option<Bytes>),
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl std::fmt::Debug for ReqInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReqInner::Incoming(_) | ReqInner::Timed(_) => f.write_str("Incoming"),
            ReqInner::Full(b) => write!(f, "Full({} bytes)", b.as_ref().map_or(0, Bytes::len)),
            ReqInner::Boxed(_) => f.write_str("Stream"),
        }
    }
}

impl RequestBody {
    /// An empty body.
    pub fn empty() -> Self {
        RequestBody {
            inner: ReqInner::Full(None),
        }
    }

    /// A body of one buffer.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        RequestBody {
            inner: ReqInner::Full(Some(bytes.into())),
        }
    }

    /// A body read from a hasten server connection, under its timeouts.
    pub(crate) fn timed(body: crate::connection::TimedIncoming) -> Self {
        RequestBody {
            inner: ReqInner::Timed(body),
        }
    }

    /// Any body. A hyper [`Incoming`](hyper::body::Incoming) body or a `RequestBody` is
    /// kept as is, without boxing.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        let any = &mut slot as &mut dyn std::any::Any;
        if let Some(incoming) = any.downcast_mut::<Option<hyper::body::Incoming>>() {
            if let Some(b) = incoming.take() {
                return RequestBody {
                    inner: ReqInner::Incoming(b),
                };
            }
        }
        if let Some(same) = any.downcast_mut::<Option<RequestBody>>() {
            if let Some(b) = same.take() {
                return b;
            }
        }
        match slot {
            Some(body) => RequestBody {
                inner: ReqInner::Boxed(body.map_err(Into::into).boxed_unsync()),
            },
            None => RequestBody::empty(),
        }
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().inner {
            ReqInner::Incoming(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            ReqInner::Timed(b) => b.poll_frame(cx),
            ReqInner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ReqInner::Boxed(b) => Pin::new(b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            ReqInner::Incoming(b) => b.is_end_stream(),
            ReqInner::Timed(b) => b.is_end_stream(),
            ReqInner::Full(b) => b.is_none(),
            ReqInner::Boxed(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            ReqInner::Incoming(b) => b.size_hint(),
            ReqInner::Timed(b) => b.size_hint(),
            ReqInner::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ReqInner::Boxed(b) => b.size_hint(),
        }
    }
}

/// The error a request body fails with when the client stops sending it, or sends
/// it too slowly; the app answers `408 Request Timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimedOut {
    /// Body bytes received before the timeout.
    pub received: u64,
    /// The minimum rate was the reason (rather than a pause of the body timeout).
    pub too_slow: bool,
}

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.too_slow {
            write!(
                f,
                "the request body arrived too slowly ({} bytes received)",
                self.received
            )
        } else {
            write!(
                f,
                "the client stopped sending the request body ({} bytes received)",
                self.received
            )
        }
    }
}

impl std::error::Error for BodyTimedOut {}
