//! CORS for browser clients: reading (GET, HEAD) from the given origins, or from any, by
//! actix-cors. With any origin allowed, a request without an `Origin` header (a request that
//! is not a browser's cross-origin one) goes past actix-cors, except OPTIONS (a preflight),
//! as its only work on it would be a header no client reads: its per-request box and header
//! insertion were a tenth of a 304's cost. The answers do not differ by origin then, and the
//! cached ones name `Origin` in their `Vary` (the cache makes that header once). With a list
//! of origins, every request goes through it, as each answer varies by origin.

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName};
use futures_util::TryFutureExt;
use futures_util::future::{Either, LocalBoxFuture, MapOk};

use super::DATASET_VERSION_HEADER;

fn builder(origins: Option<&[String]>) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD"])
        .allowed_headers([header::ACCEPT, header::ACCEPT_LANGUAGE, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, header::CONTENT_DISPOSITION, DATASET_VERSION_HEADER, HeaderName::from_static("x-request-id")])
        .max_age(3600);
    match origins {
        // one answer for every origin: it varies by none, and the cached answers' Vary is
        // made once by the cache (actix-cors would append to every answer's)
        None => cors = cors.allow_any_origin().send_wildcard().disable_vary_header(),
        Some(list) => {
            for o in list {
                cors = cors.allowed_origin(o);
            }
        }
    }
    cors
}

/// The layer: `None` allows any origin.
pub struct Cors {
    cors: actix_cors::Cors,
    /// Requests without an `Origin` go past actix-cors (only with any origin allowed).
    only_with_origin: bool,
}

impl Cors {
    pub fn new(origins: Option<&[String]>) -> Self {
        Cors { cors: builder(origins), only_with_origin: origins.is_none() }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Cors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CorsService<S>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let inner = Rc::new(service);
        let cors = self.cors.new_transform(inner.clone());
        let only_with_origin = self.only_with_origin;
        Box::pin(async move { Ok(CorsService { cors: cors.await?, inner, only_with_origin }) })
    }
}

pub struct CorsService<S> {
    cors: actix_cors::CorsMiddleware<Rc<S>>,
    inner: Rc<S>,
    only_with_origin: bool,
}

type Past<F, B> = MapOk<F, fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>>;

impl<S, B> Service<ServiceRequest> for CorsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Either<LocalBoxFuture<'static, Result<Self::Response, actix_web::Error>>, Past<S::Future, B>>;

    actix_web::dev::forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.only_with_origin && req.method() != Method::OPTIONS && !req.headers().contains_key(header::ORIGIN) {
            return Either::Right(self.inner.call(req).map_ok(ServiceResponse::map_into_left_body as fn(_) -> _));
        }
        Either::Left(self.cors.call(req))
    }
}
