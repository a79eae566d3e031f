//! Rate limits: `rate_limit = "100/minute"` on a route, [`Router::rate_limit`] on a
//! group of routes, keyed by client, user, a header or a key of your own.
//!
//! A limited operation answers `429 Too Many Requests` once a client has spent its
//! quota, with `Retry-After`, and every answer carries the `RateLimit-Limit`,
//! `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy` headers. The 429
//! and the headers are in the OpenAPI document.
//!
//! The quota is a rate with a burst: `100/minute` lets a client send 100 requests at
//! once, then one more every 0.6 s (the generic cell rate algorithm, as `governor`
//! and Redis' `CL.THROTTLE` count). Counts are kept in the process by default; with
//! `RateLimits::redis` (cargo feature `rate-limit-redis`) every instance pointed at the
//! same Redis shares them, so a limit holds across instances behind a load balancer.
//!
//! ```
//! use hasten::prelude::*;
//! use hasten::rate_limit::RateLimit;
//!
//! /// 10 searches a minute per client.
//! #[get("/search", rate_limit = "10/minute")]
//! async fn search(q: String) -> String {
//!     q
//! }
//!
//! /// 1000 requests an hour per API key, on every route of the router.
//! #[get("/reports")]
//! async fn reports() -> &'static str {
//!     "[]"
//! }
//!
//! let api = Router::new()
//!     .prefix("/api")
//!     .rate_limit(RateLimit::new("1000/hour").by_header("x-api-key"))
//!     .route(reports);
//! let app = App::new().route(search).include(api);
//! # let _ = app.build().unwrap();
//! ```
//!
//! Each operation counts on its own, even when the limit comes from a router (as
//! slowapi's `default_limits`); [`RateLimit::scope`] makes operations share one count.
//!
//! When the store cannot be reached (Redis down), requests are let through without
//! the headers and a warning is logged, at most once every 10 s: a rate limit protects
//! the service, it should not take it down.
//!
//! [`Router::rate_limit`]: crate::Router::rate_limit

#[cfg(feature = "rate-limit-redis")]
mod redis;

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
#[cfg(feature = "rate-limit-redis")]
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::extract::RequestCtx;
use crate::operation::{BoxFuture, HandlerFn};
use crate::response::Response;

/// A rate: so many requests per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    count: u32,
    window: Duration,
}

impl Rate {
    /// `"100/minute"`, `"10/second"`, `"5000/hour"`, `"20000/day"`; `"100 per minute"`
    /// and `"100/5 minutes"` as slowapi writes them.
    fn parse(spec: &str) -> Result<Rate, String> {
        let bad = || {
            format!(
                "`{spec}` is not a rate limit: write a count and a period, e.g. \"100/minute\", \
                 \"10/second\", \"5000/hour\" or \"100/5 minutes\""
            )
        };
        let (count, period) = spec
            .split_once('/')
            .or_else(|| spec.split_once(" per "))
            .ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!(
                "`{spec}`: a rate limit lets at least one request through"
            ));
        }
        let period = period.trim();
        let (times, unit) = match period.split_once(' ') {
            Some((n, unit)) => (n.trim().parse::<u32>().map_err(|_| bad())?, unit.trim()),
            None => (1, period),
        };
        let seconds = match unit.trim_end_matches('s') {
            "second" | "sec" => 1,
            "minute" | "min" => 60,
            "hour" => 3600,
            "day" => 86_400,
            _ => return Err(bad()),
        };
        if times == 0 {
            return Err(bad());
        }
        Ok(Rate {
            count,
            window: Duration::from_secs(seconds * u64::from(times)),
        })
    }

    /// The time one request's share of the quota takes to come back.
    fn period(&self) -> Duration {
        self.window / self.count
    }
}

impl fmt::Display for Rate {
    /// As slowapi words it: `100 per 1 minute`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.window.as_secs();
        let (n, unit) = match secs {
            s if s % 86_400 == 0 => (s / 86_400, "day"),
            s if s % 3600 == 0 => (s / 3600, "hour"),
            s if s % 60 == 0 => (s / 60, "minute"),
            s => (s, "second"),
        };
        write!(f, "{} per {n} {unit}", self.count)
    }
}

/// A key of the app's own, made from the request head.
type KeyFn = dyn Fn(&Parts) -> Option<String> + Send + Sync;

/// What a limit counts by.
#[derive(Clone)]
enum KeyBy {
    Client,
    User,
    Header(http::HeaderName),
    Custom(Arc<KeyFn>),
}

/// A rate limit on an operation or a router's operations.
///
/// Made from a rate (`"100/minute"`), keyed by the client's address unless told
/// otherwise. A rate that does not parse is reported when the app is built (the route
/// attribute's `rate_limit = "…"` is checked at compile time).
#[derive(Clone)]
pub struct RateLimit {
    spec: String,
    rate: Result<Rate, String>,
    key: KeyBy,
    scope: Option<String>,
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match &self.key {
            KeyBy::Client => "client".to_owned(),
            KeyBy::User => "user".to_owned(),
            KeyBy::Header(h) => format!("header {h}"),
            KeyBy::Custom(_) => "custom".to_owned(),
        };
        f.debug_struct("RateLimit")
            .field("rate", &self.spec)
            .field("key", &key)
            .field("scope", &self.scope)
            .finish()
    }
}

impl RateLimit {
    /// A limit of `spec`: `"100/minute"`, `"10/second"`, `"5000/hour"`, `"20000/day"`,
    /// or `"100/5 minutes"`; per client address.
    pub fn new(spec: &str) -> Self {
        RateLimit {
            spec: spec.to_owned(),
            rate: Rate::parse(spec),
            key: KeyBy::Client,
            scope: None,
        }
    }

    /// Count per client address (the default): the peer's IP, or the client that a
    /// trusted proxy names in `X-Forwarded-For` (see
    /// [`RateLimits::forwarded_allow_ips`]).
    pub fn by_client(mut self) -> Self {
        self.key = KeyBy::Client;
        self
    }

    /// Count per user: per the credentials of the `Authorization` header (a bearer
    /// token, basic credentials), else per client address. The credentials are kept
    /// only as a hash.
    pub fn by_user(mut self) -> Self {
        self.key = KeyBy::User;
        self
    }

    /// Count per value of a request header (an API key, say), else per client
    /// address. Values are kept only as a hash.
    ///
    /// # Panics
    /// If `name` is not a valid header name.
    pub fn by_header(mut self, name: &str) -> Self {
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|_| panic!("`{name}` is not a valid header name"));
        self.key = KeyBy::Header(name);
        self
    }

    /// Count per the key `key` makes of the request's head; a request it gives no key
    /// for is counted per client address.
    pub fn by<F>(mut self, key: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.key = KeyBy::Custom(Arc::new(key));
        self
    }

    /// Share one count between every operation limited under the name `name` (and, on
    /// Redis, between apps using it). Without a scope, each operation counts alone.
    pub fn scope(mut self, name: impl Into<String>) -> Self {
        self.scope = Some(name.into());
        self
    }

    /// The rate as written.
    pub fn rate(&self) -> &str {
        &self.spec
    }
}

/// Where an app keeps its rate-limit counts, and whom it trusts to name the client:
/// [`App::rate_limits`](crate::App::rate_limits). In the process unless set.
#[derive(Clone)]
pub struct RateLimits {
    store: Store,
    trusted: Arc<[IpAddr]>,
}

#[derive(Clone)]
enum Store {
    InProcess,
    #[cfg(feature = "rate-limit-redis")]
    Redis(Arc<redis::RedisStore>),
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = match &self.store {
            Store::InProcess => "in-process",
            #[cfg(feature = "rate-limit-redis")]
            Store::Redis(_) => "redis",
        };
        f.debug_struct("RateLimits")
            .field("store", &store)
            .field("forwarded_allow_ips", &self.trusted)
            .finish()
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::in_process()
    }
}

impl RateLimits {
    /// Counts kept in this process (the default): each instance counts on its own.
    pub fn in_process() -> Self {
        RateLimits {
            store: Store::InProcess,
            trusted: Arc::from(
                [
                    IpAddr::from([127, 0, 0, 1]),
                    IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
                ]
                .as_slice(),
            ),
        }
    }

    /// Whose `X-Forwarded-For` names the client: requests from these addresses (a
    /// reverse proxy's) are counted by the last address in the header that is not
    /// one of them. Loopback by default, as uvicorn's `--forwarded-allow-ips`; an
    /// empty list trusts no one.
    pub fn forwarded_allow_ips(mut self, ips: impl IntoIterator<Item = IpAddr>) -> Self {
        self.trusted = ips.into_iter().collect();
        self
    }

    /// What binds operations' limits to this store, when the app is built.
    pub(crate) fn binder(&self) -> Binder {
        Binder {
            setup: self.clone(),
            scopes: HashMap::new(),
        }
    }
}

/// Binds operations' limits to the app's store, sharing scoped counters.
pub(crate) struct Binder {
    setup: RateLimits,
    scopes: HashMap<String, Arc<Bound>>,
}

impl Binder {
    /// Wrap an operation's handler in its limits (outside its middleware).
    pub(crate) fn seal(
        &mut self,
        limits: Vec<RateLimit>,
        methods: &[&str],
        path: &str,
        handler: Arc<HandlerFn>,
    ) -> Result<Arc<HandlerFn>, String> {
        let mut bound = Vec::with_capacity(limits.len());
        for limit in limits {
            bound.push(self.bind(limit, methods, path)?);
        }
        let bound: Arc<[Arc<Bound>]> = bound.into();
        Ok(Arc::new(
            move |ctx: Box<RequestCtx>| -> BoxFuture<Response> {
                Box::pin(enforce(ctx, bound.clone(), handler.clone()))
            },
        ))
    }

    fn bind(
        &mut self,
        limit: RateLimit,
        methods: &[&str],
        path: &str,
    ) -> Result<Arc<Bound>, String> {
        let rate = limit.rate.clone()?;
        let namespace = match &limit.scope {
            Some(scope) => scope.clone(),
            None => format!("{} {path}", methods.join(",")),
        };
        if let Some(scope) = &limit.scope {
            if let Some(b) = self.scopes.get(scope) {
                if b.rate != rate {
                    return Err(format!(
                        "the rate limit scope `{scope}` is given two rates: {} and {rate}",
                        b.rate
                    ));
                }
                return Ok(b.clone());
            }
        }
        let quota = Quota::with_period(rate.period())
            .ok_or_else(|| format!("`{}` is too fine a rate", limit.spec))?
            .allow_burst(NonZeroU32::new(rate.count).unwrap_or(NonZeroU32::MIN));
        let bound = Arc::new(Bound {
            rate,
            policy: HeaderValue::from_str(&format!("{};w={}", rate.count, rate.window.as_secs()))
                .unwrap_or(HeaderValue::from_static("0")),
            detail: format!("Rate limit exceeded: {rate}"),
            key: limit.key,
            namespace,
            trusted: self.setup.trusted.clone(),
            counter: match &self.setup.store {
                Store::InProcess => Counter::Local(Local {
                    limiter: Keyed::new(quota, HashMapStateStore::default(), MonotonicClock),
                    checks: AtomicU32::new(0),
                }),
                #[cfg(feature = "rate-limit-redis")]
                Store::Redis(r) => Counter::Redis(r.clone()),
            },
        });
        if let Some(scope) = limit.scope {
            self.scopes.insert(scope, bound.clone());
        }
        Ok(bound)
    }
}

/// The in-process counts of one limit: governor's keyed limiter, by key hash.
type Keyed = RateLimiter<u64, HashMapStateStore<u64>, MonotonicClock, StateInformationMiddleware>;

struct Local {
    limiter: Keyed,
    /// Checks since the last sweep of keys back at full quota.
    checks: AtomicU32,
}

enum Counter {
    Local(Local),
    #[cfg(feature = "rate-limit-redis")]
    Redis(Arc<redis::RedisStore>),
}

/// A limit bound to its store.
struct Bound {
    rate: Rate,
    policy: HeaderValue,
    detail: String,
    key: KeyBy,
    /// The count's name in a shared store: the scope, else the methods and path.
    #[cfg_attr(not(feature = "rate-limit-redis"), allow(dead_code))]
    namespace: String,
    trusted: Arc<[IpAddr]>,
    counter: Counter,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Verdict {
    /// Let through; `remaining` more now, full again in `reset`.
    Allowed { remaining: u32, reset: Duration },
    /// Over the limit until `retry_after`.
    Denied { retry_after: Duration },
}

/// Keys are swept of entries back at full quota every this many checks.
const SWEEP_EVERY: u32 = 4096;

impl Bound {
    fn key(&self, parts: &Parts) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        let by_client = |h: &mut std::hash::DefaultHasher| {
            0u8.hash(h);
            client_ip(parts, &self.trusted).hash(h);
        };
        match &self.key {
            KeyBy::Client => by_client(&mut h),
            KeyBy::User => match parts.headers.get(http::header::AUTHORIZATION) {
                Some(v) => (1u8, v.as_bytes()).hash(&mut h),
                None => by_client(&mut h),
            },
            KeyBy::Header(name) => match parts.headers.get(name) {
                Some(v) => (2u8, v.as_bytes()).hash(&mut h),
                None => by_client(&mut h),
            },
            KeyBy::Custom(f) => match f(parts) {
                Some(k) => (3u8, k).hash(&mut h),
                None => by_client(&mut h),
            },
        }
        h.finish()
    }

    async fn check(&self, key: u64) -> Option<Verdict> {
        match &self.counter {
            Counter::Local(local) => Some(local.check(key, self.rate)),
            #[cfg(feature = "rate-limit-redis")]
            Counter::Redis(r) => r.check(&self.namespace, key, self.rate).await,
        }
    }
}

impl Local {
    fn check(&self, key: u64, rate: Rate) -> Verdict {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Keys whose quota is full again hold nothing worth keeping: the memory
            // stays bounded by the clients active within one window.
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        match self.limiter.check_key(&key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Verdict::Allowed {
                    remaining,
                    reset: rate.period() * rate.count.saturating_sub(remaining),
                }
            }
            Err(not_until) => Verdict::Denied {
                retry_after: not_until.wait_time_from(MonotonicClock.now()),
            },
        }
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last
/// address of `X-Forwarded-For` that is not a trusted proxy's.
fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ClientAddr>().map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut client = peer;
    for value in parts.headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return Some(client);
        };
        for hop in value.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if trusted.contains(&ip) => client = ip,
                Ok(ip) => return Some(ip),
                Err(_) => return Some(client),
            }
        }
    }
    Some(client)
}

/// The peer address of a request's connection, put in its extensions when the app
/// has rate limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) SocketAddr);

/// Seconds, rounded up, as the headers give them.
fn secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn headers(bound: &Bound, remaining: u32, reset: Duration, to: &mut HeaderMap) {
    to.insert("ratelimit-limit", HeaderValue::from(bound.rate.count));
    to.insert("ratelimit-remaining", HeaderValue::from(remaining));
    to.insert("ratelimit-reset", HeaderValue::from(secs(reset)));
    to.insert("ratelimit-policy", bound.policy.clone());
}

/// The last time a store failure was logged, in seconds since the epoch.
#[cfg(feature = "rate-limit-redis")]
static LAST_WARNING: AtomicU64 = AtomicU64::new(0);

/// Log a store failure, at most once every 10 s.
#[cfg(feature = "rate-limit-redis")]
pub(crate) fn warn_unavailable(error: &dyn fmt::Display) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_WARNING.load(Ordering::Relaxed);
    if now >= last + 10
        && LAST_WARNING
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            target: "hasten::rate_limit",
            error = %error,
            "the rate-limit store is unavailable: requests are let through uncounted"
        );
    }
}

/// Check every limit of the operation, then run it; the tightest limit's headers go
/// on the answer.
async fn enforce(
    ctx: Box<RequestCtx>,
    limits: Arc<[Arc<Bound>]>,
    handler: Arc<HandlerFn>,
) -> Response {
    let mut tightest: Option<(&Bound, u32, Duration)> = None;
    for bound in limits.iter() {
        let key = bound.key(&ctx.parts);
        match bound.check(key).await {
            None => {}
            Some(Verdict::Allowed { remaining, reset })
                if tightest.is_none_or(|(_, r, _)| remaining < r) =>
            {
                tightest = Some((bound, remaining, reset));
            }
            Some(Verdict::Allowed { .. }) => {}
            Some(Verdict::Denied { retry_after }) => {
                return too_many(&ctx, bound, retry_after);
            }
        }
    }
    let mut resp = handler(ctx).await;
    if let Some((bound, remaining, reset)) = tightest {
        headers(bound, remaining, reset, resp.headers_mut());
    }
    resp
}

/// The 429: FastAPI's error body (or the app's), `Retry-After` and the headers.
fn too_many(ctx: &RequestCtx, bound: &Bound, retry_after: Duration) -> Response {
    let mut err = crate::HttpError::new(StatusCode::TOO_MANY_REQUESTS, &bound.detail)
        .with_header(http::header::RETRY_AFTER, secs(retry_after).to_string());
    let mut extra = HeaderMap::new();
    headers(bound, 0, retry_after, &mut extra);
    for (name, value) in &extra {
        err = err.with_header(name.clone(), value.clone());
    }
    let mut resp = ctx.rt.handlers.framework_error(err, &ctx.parts);
    if ctx.parts.method == http::Method::HEAD {
        crate::response::strip_body(&mut resp);
    }
    resp
}

/// The OpenAPI headers of a limited operation's answers.
pub(crate) fn documented_headers(retry_after: bool) -> serde_json::Value {
    let int = |description: &str| serde_json::json!({ "description": description, "schema": { "type": "integer" } });
    let mut h = serde_json::Map::new();
    if retry_after {
        h.insert(
            "Retry-After".into(),
            int("Seconds until a request will be let through again"),
        );
    }
    h.insert(
        "RateLimit-Limit".into(),
        int("Requests the client may send at once"),
    );
    h.insert(
        "RateLimit-Remaining".into(),
        int("Requests the client may still send now"),
    );
    h.insert(
        "RateLimit-Reset".into(),
        int("Seconds until the quota is whole again"),
    );
    h.insert(
        "RateLimit-Policy".into(),
        serde_json::json!({
            "description": "The quota and its window in seconds (`100;w=60`)",
            "schema": { "type": "string" }
        }),
    );
    serde_json::Value::Object(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_slowapi_writes_them() {
        let r = |s: &str| Rate::parse(s).map(|r| (r.count, r.window.as_secs()));
        assert_eq!(r("100/minute"), Ok((100, 60)));
        assert_eq!(r("10/second"), Ok((10, 1)));
        assert_eq!(r("5000/hour"), Ok((5000, 3600)));
        assert_eq!(r("3/day"), Ok((3, 86_400)));
        assert_eq!(r("100 per minute"), Ok((100, 60)));
        assert_eq!(r("100/5 minutes"), Ok((100, 300)));
        assert_eq!(r(" 7 / 2 hours "), Ok((7, 7200)));
        assert!(r("0/minute").unwrap_err().contains("at least one"));
        for bad in [
            "",
            "100",
            "x/minute",
            "100/fortnight",
            "100/0 minutes",
            "-1/minute",
        ] {
            assert!(r(bad).unwrap_err().contains("not a rate limit"), "{bad}");
        }
        assert_eq!(
            Rate::parse("100/5 minutes").unwrap().to_string(),
            "100 per 5 minute"
        );
        assert_eq!(Rate::parse("2/hour").unwrap().to_string(), "2 per 1 hour");
    }

    #[test]
    fn keys_back_at_full_quota_are_swept() {
        let rate = Rate::parse("1000/second").unwrap();
        let quota = Quota::with_period(rate.period())
            .unwrap()
            .allow_burst(NonZeroU32::new(rate.count).unwrap());
        let local = Local {
            limiter: Keyed::new(quota, HashMapStateStore::default(), MonotonicClock),
            checks: AtomicU32::new(0),
        };
        for key in 0..u64::from(SWEEP_EVERY - 1) {
            local.check(key, rate);
        }
        assert_eq!(local.limiter.len(), SWEEP_EVERY as usize - 1);
        // One request's share (1 ms) has come back to every key: the next check sweeps.
        std::thread::sleep(Duration::from_millis(20));
        local.check(u64::MAX, rate);
        assert!(
            local.limiter.len() <= 1,
            "{} keys kept",
            local.limiter.len()
        );
    }

    #[test]
    fn the_client_is_the_last_untrusted_forwarded_address() {
        let trusted = [IpAddr::from([127, 0, 0, 1]), IpAddr::from([10, 0, 0, 1])];
        let parts = |peer: [u8; 4], xff: &[&str]| {
            let mut b = http::Request::builder();
            for v in xff {
                b = b.header("x-forwarded-for", *v);
            }
            let (mut parts, ()) = b.body(()).unwrap().into_parts();
            parts
                .extensions
                .insert(ClientAddr(SocketAddr::from((peer, 4000))));
            parts
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // A direct client cannot name another.
        assert_eq!(
            client_ip(&parts([8, 8, 8, 8], &["1.2.3.4"]), &trusted),
            ip("8.8.8.8")
        );
        // Behind a trusted proxy: the address it saw.
        assert_eq!(
            client_ip(&parts([127, 0, 0, 1], &["1.2.3.4"]), &trusted),
            ip("1.2.3.4")
        );
        // A client's own X-Forwarded-For entry before the proxy's is not believed.
        assert_eq!(
            client_ip(&parts([127, 0, 0, 1], &["6.6.6.6, 1.2.3.4"]), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_ip(
                &parts([127, 0, 0, 1], &["6.6.6.6", "1.2.3.4, 10.0.0.1"]),
                &trusted
            ),
            ip("1.2.3.4")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            client_ip(&parts([127, 0, 0, 1], &["junk"]), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(&parts([127, 0, 0, 1], &[]), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(&parts([127, 0, 0, 1], &["1.2.3.4"]), &[]),
            ip("127.0.0.1")
        );
    }
}
