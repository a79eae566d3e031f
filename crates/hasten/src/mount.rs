//! Mounting another app, or any tower [`Service`](tower_service::Service), under a path
//! prefix — Starlette's `Mount`. The mounted service sees the path without the prefix;
//! routes of the outer app take precedence.

use std::fmt;

use http::uri::PathAndQuery;

use crate::body::RequestBody;
use crate::response::Response;

/// A service mounted under a prefix.
pub(crate) use crate::extract::MountedAt;

#[derive(Clone)]
pub(crate) struct Mount {
    pub(crate) prefix: String,
    service: crate::middleware::Next,
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Mount {
    pub(crate) fn new<S: crate::middleware::HttpService>(prefix: String, service: S) -> Self {
        Mount {
            prefix,
            service: crate::middleware::Next::from_service(service),
        }
    }

    fn strip<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.prefix.as_str())?;
        if rest.is_empty() {
            Some("/")
        } else if rest.starts_with('/') {
            Some(rest)
        } else {
            None
        }
    }

    /// The URI the mounted service sees, if `uri` is under the prefix: the path below
    /// it, the query and authority kept.
    pub(crate) fn target(&self, uri: &http::Uri) -> Option<http::Uri> {
        let inner = self.strip(uri.path())?;
        let target = match uri.query() {
            Some(q) => format!("{inner}?{q}"),
            None => inner.to_owned(),
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(PathAndQuery::try_from(target).ok()?);
        http::Uri::from_parts(parts).ok()
    }

    /// Serve a request (whose URI was rewritten by [`Mount::target`]).
    pub(crate) async fn serve(&self, req: http::Request<RequestBody>) -> Response {
        self.service.run(req).await
    }
}
