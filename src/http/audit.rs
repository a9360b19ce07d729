//! The audit of signed-in reads (access.md, "Audit"), as the scope of the `/v1/me` routes
//! wears it: one record per request, granted or denied, written before the answer leaves —
//! if it cannot be written, the answer is a 503 instead (no unaudited read) — and every answer
//! marked private (`Cache-Control: private, no-store`, `Vary: Authorization`).
//!
//! Who asked is noted on the request by the [`super::auth::SignedIn`] extractor, which
//! departments and which dataset version by the handler ([`touched`]); where the record goes is
//! an [`AuditSink`] (the store's, in production).

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, ResponseError, web};
use futures_util::future::LocalBoxFuture;

use super::auth::{Caller, Gate};
use crate::error::ApiError;

/// The longest route text recorded: an unmatched path is the client's text.
const MAX_ROUTE: usize = 300;

/// One `/v1/me` request, as it is recorded (the sink stamps the time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    pub sub: Option<String>,
    pub cvr: Option<String>,
    pub client_id: Option<String>,
    pub jti: Option<String>,
    /// The route's pattern (`/v1/me/departments/{department_id}/series`), or the path when
    /// no route matched.
    pub route: String,
    pub departments: Vec<String>,
    pub dataset_version: Option<i64>,
    pub status: u16,
}

pub type Recorded = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Where audit records go.
pub trait AuditSink: Send + Sync + 'static {
    fn record(&self, entry: AuditEntry) -> Recorded;
}

/// What a request touched, noted on it for its record.
#[derive(Debug, Clone, Default)]
struct Touched {
    caller: Option<Caller>,
    departments: Vec<String>,
    dataset_version: Option<i64>,
}

pub(super) fn note_caller(req: &HttpRequest, caller: &Caller) {
    let mut extensions = req.extensions_mut();
    match extensions.get_mut::<Touched>() {
        Some(t) => t.caller = Some(caller.clone()),
        None => {
            extensions.insert(Touched { caller: Some(caller.clone()), ..Touched::default() });
        }
    }
}

/// Notes the dataset version a request was answered from and the departments it touched.
pub fn touched(req: &HttpRequest, dataset_version: i64, departments: impl IntoIterator<Item = String>) {
    let mut extensions = req.extensions_mut();
    if extensions.get::<Touched>().is_none() {
        extensions.insert(Touched::default());
    }
    if let Some(t) = extensions.get_mut::<Touched>() {
        t.dataset_version = Some(dataset_version);
        t.departments.extend(departments);
    }
}

fn entry_of(req: &HttpRequest, status: u16) -> AuditEntry {
    let touched = req.extensions().get::<Touched>().cloned().unwrap_or_default();
    let route = req.match_pattern().unwrap_or_else(|| req.path().chars().take(MAX_ROUTE).collect());
    let caller = touched.caller;
    AuditEntry {
        sub: caller.as_ref().map(|c| c.sub.clone()),
        cvr: caller.as_ref().map(|c| c.cvr.clone()),
        client_id: caller.as_ref().and_then(|c| c.client_id.clone()),
        jti: caller.as_ref().and_then(|c| c.jti.clone()),
        route,
        departments: touched.departments,
        dataset_version: touched.dataset_version,
        status,
    }
}

/// The middleware of the `/v1/me` scope. The sink is the application's
/// (`web::Data<dyn AuditSink>`); with signed-in access on and no sink, nothing is answered.
#[derive(Clone, Copy, Default)]
pub struct Audit;

impl<S, B> Transform<S, ServiceRequest> for Audit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = AuditService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuditService { service: Rc::new(service) }))
    }
}

pub struct AuditService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for AuditService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // off (no issuer): nothing is read, so nothing is recorded
        let enabled = req.app_data::<web::Data<Gate>>().is_some_and(|g| g.enabled());
        let sink: Option<Arc<dyn AuditSink>> = req.app_data::<web::Data<dyn AuditSink>>().map(|d| d.clone().into_inner());
        // (the request is not cloned before the inner service runs: the router needs it alone)
        let path: String = req.path().chars().take(MAX_ROUTE).collect();
        let answer = self.service.call(req);
        Box::pin(async move {
            let record = |entry: AuditEntry| async {
                match (enabled, &sink) {
                    (false, _) => Ok(()),
                    (true, Some(sink)) => sink.record(entry).await,
                    (true, None) => Err("no audit sink is configured".to_string()),
                }
            };
            let mut res = match answer.await {
                Ok(res) => res.map_into_boxed_body(),
                Err(e) => {
                    // an error the framework renders further out: recorded with what is known
                    let status = e.as_response_error().status_code().as_u16();
                    let entry = AuditEntry { route: path, status, ..AuditEntry::default() };
                    if let Err(failed) = record(entry).await {
                        tracing::error!(error = %failed, "an audit record could not be written");
                    }
                    return Err(e);
                }
            };
            if let Err(e) = record(entry_of(res.request(), res.status().as_u16())).await {
                tracing::error!(error = %e, "an audit record could not be written; the answer is withheld");
                let refused = ApiError::Unavailable("the request could not be audited, so it is not answered; try again shortly".into());
                res = ServiceResponse::new(res.request().clone(), refused.error_response());
            }
            let headers = res.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            headers.append(header::VARY, HeaderValue::from_static("Authorization"));
            // (no validator: a private answer is not revalidated against shared state)
            headers.remove(header::ETAG);
            Ok(res)
        })
    }
}
