//! Logging with tracing: human-readable on a terminal, JSON lines otherwise; one span per
//! request with method, path, status, latency and a request id echoed in `x-request-id`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing_subscriber::EnvFilter;

use crate::metrics::{Metrics, RequestShard, RouteMetrics};
use crate::settings::{LogFormat, LogSettings};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps the thread that writes the log lines; dropping it writes out what is queued.
#[must_use = "logs are written only while the guard lives"]
pub struct LogGuard {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global subscriber; later calls (as in tests) are ignored.
pub fn init(settings: &LogSettings) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let json = match settings.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    // Lines go to stderr from a thread of their own, not by a write system call per request
    // on the request path (304s on two cores: 71,000/s at level info that way, 75,000-86,000/s
    // this way, 110,000/s at warn with no line per request). Not lossy: when the queue is
    // full, requests wait for it rather than lose their lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default().lossy(false).finish(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let installed =
        if json { builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init() } else { builder.try_init() };
    LogGuard { _writer: installed.is_ok().then_some(guard) }
}

/// A request's id: the caller's when it is short and printable, so that traces can be joined
/// across services; otherwise a fresh one.
enum RequestId {
    Given(HeaderValue),
    Fresh([u8; 36]),
}

impl RequestId {
    fn of(req: &ServiceRequest) -> RequestId {
        match req.headers().get(&REQUEST_ID_HEADER) {
            Some(v) if (1..=128).contains(&v.len()) && v.as_bytes().iter().all(u8::is_ascii_graphic) => RequestId::Given(v.clone()),
            _ => RequestId::Fresh(fresh_id()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // (printable ASCII, checked above)
            RequestId::Given(v) => v.to_str().unwrap_or(""),
            RequestId::Fresh(b) => std::str::from_utf8(b).unwrap_or(""),
        }
    }

    fn header_value(&self) -> Option<HeaderValue> {
        match self {
            RequestId::Given(v) => Some(v.clone()),
            RequestId::Fresh(b) => HeaderValue::from_bytes(b).ok(),
        }
    }
}

/// A random (version 4) UUID, hyphenated, from a per-thread generator seeded once from the
/// operating system: ids need to be unique, not secret, and a system call per request is
/// measurable (as is a string for it).
fn fresh_id() -> [u8; 36] {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new((uuid::Uuid::new_v4().as_u128() as u64) | 1);
    }
    let next = || {
        STATE.with(|s| {
            // SplitMix64
            let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            s.set(x);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
    };
    let bytes = ((u128::from(next()) << 64) | u128::from(next())).to_le_bytes();
    let mut out = [0u8; 36];
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().encode_lower(&mut out);
    out
}

/// The request layer: each request's span and closing log line, its id echoed in
/// `x-request-id`, and its route's metrics. A plain service rather than `from_fn`, which boxes
/// a future per request; each worker counts into metrics of its own, with the route metrics
/// remembered per path (no lock or counter shared between workers on the request path).
pub struct RequestSpan {
    metrics: Arc<Metrics>,
}

impl RequestSpan {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        RequestSpan { metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestSpan
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestSpanService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(RequestSpanService { service, metrics: self.metrics.shard(), routes: RefCell::default() }))
    }
}

/// Paths remembered per worker, up to what length: unknown paths cannot grow it without limit
/// (10,000 request lines of 16 KB would be 160 MB; these bound it to 5 MB).
const ROUTES_REMEMBERED: usize = 10_000;
const ROUTE_PATH_REMEMBERED: usize = 512;

pub struct RequestSpanService<S> {
    service: S,
    /// this worker's request metrics
    metrics: Arc<RequestShard>,
    /// path → its route pattern's metrics (the router's match runs its regular expressions
    /// again, so it is looked up once per path)
    routes: RefCell<HashMap<String, Rc<RouteMetrics>, foldhash::fast::RandomState>>,
}

impl<S> RequestSpanService<S> {
    fn route(&self, req: &ServiceRequest) -> Rc<RouteMetrics> {
        if let Some(r) = self.routes.borrow().get(req.path()) {
            return r.clone();
        }
        let r = Rc::new(self.metrics.route(req.match_pattern()));
        if req.path().len() > ROUTE_PATH_REMEMBERED {
            return r;
        }
        let mut routes = self.routes.borrow_mut();
        if routes.len() >= ROUTES_REMEMBERED {
            routes.clear();
        }
        routes.insert(req.path().to_string(), r.clone());
        r
    }
}

impl<S, B> Service<ServiceRequest> for RequestSpanService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = RequestSpanFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = RequestId::of(&req);
        // the route pattern, not the path, so that the metrics' labels stay few
        let route = self.route(&req);
        let method = req.method().clone();
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.path(),
            request_id = %id.as_str(),
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let inner = {
            let _entered = span.enter();
            self.service.call(req)
        };
        RequestSpanFuture { inner, span, started, id, route, method }
    }
}

pin_project_lite::pin_project! {
    pub struct RequestSpanFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        started: Instant,
        id: RequestId,
        route: Rc<RouteMetrics>,
        method: Method,
    }
}

impl<F, B> Future for RequestSpanFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = {
            let _entered = this.span.enter();
            match this.inner.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(res)) => res,
            }
        };
        let status = res.status();
        let latency_ms = this.started.elapsed().as_secs_f64() * 1000.0;
        this.route.observe(this.method, status, latency_ms / 1000.0);
        this.span.record("status", status.as_u16());
        this.span.record("latency_ms", latency_ms);
        if let Some(value) = this.id.header_value() {
            res.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        this.span.in_scope(|| {
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), latency_ms, "request failed");
            } else {
                tracing::info!(status = status.as_u16(), latency_ms, "request finished");
            }
        });
        Poll::Ready(Ok(res))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_hyphenated_version_4_uuids() {
        let a = fresh_id();
        let b = fresh_id();
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(std::str::from_utf8(&a).unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.hyphenated().to_string().as_bytes(), a);
    }
}
