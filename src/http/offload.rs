//! Work that would hold a request worker for long — rendering an answer the cache does not
//! have, compressing a large body — runs on a few threads of its own, at a lower scheduling
//! priority than the request workers, behind a bounded queue. A request worker then only
//! parses, answers from the cache and writes bytes, so cached answers and health checks stay
//! fast while misses queue; when the queue is full, a miss is answered 503 with
//! `Retry-After` instead of waiting without bound.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

use super::DATASET_VERSION_HEADER;
use crate::error::ApiError;
use crate::metrics::Metrics;

type Job = Box<dyn FnOnce() + Send>;

/// The nice value of the pool's threads: the scheduler gives the request workers (nice 0)
/// about ten times their share of a core when both want it.
const NICE: i32 = 10;

/// The queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// The pool: `threads` threads taking jobs from a queue of at most `queue`.
pub struct Offload {
    sender: SyncSender<Job>,
    metrics: Option<Arc<Metrics>>,
}

impl Offload {
    #[expect(clippy::expect_used, reason = "made at startup: a process that cannot start a thread cannot serve")]
    pub fn new(threads: usize, queue: usize, metrics: Option<Arc<Metrics>>) -> Offload {
        let (sender, receiver) = sync_channel::<Job>(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new().name(format!("render-{i}")).spawn(move || work(&receiver)).expect("a thread can be started");
        }
        Offload { sender, metrics }
    }

    /// Queues `f`; its result arrives through the receiver (`Err` if it panicked). `Busy`
    /// when the queue is full.
    pub fn spawn<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<tokio::sync::oneshot::Receiver<T>, Busy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.sender.try_send(job) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                if let Some(m) = &self.metrics {
                    m.count_shed();
                }
                Err(Busy)
            }
        }
    }
}

fn work(receiver: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match receiver.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return, // the pool is gone
        };
        // a panicking job drops its sender (the waiting request gets an error); the thread
        // lives on
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
    }
}

/// Runs a long job (an import over HTTP) on a thread of its own at the render threads'
/// priority, so that answers go on being served at full speed meanwhile.
pub async fn run_in_background<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("background".into())
        .spawn(move || {
            lower_priority();
            let _ = tx.send(f());
        })
        .map_err(|e| ApiError::Internal(format!("cannot start a thread: {e}")))?;
    rx.await.map_err(|_| ApiError::Internal("a background job panicked".into()))
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // Linux applies nice to a single thread when given its thread id
    // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
    let tid = unsafe { libc::gettid() };
    // SAFETY: setpriority reads its three integer arguments only; a bad one is an error
    // return, which is handled.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE) } != 0 {
        tracing::debug!("could not lower the render thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// A rendered answer, made off the request workers: everything the cache keeps of it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub dataset_version: i64,
    pub content_type: HeaderValue,
    pub content_language: Option<&'static str>,
    pub content_disposition: Option<HeaderValue>,
    pub body: Bytes,
    /// 200, or 204 for an answer that is rightly empty (a vector tile without features).
    pub status: actix_web::http::StatusCode,
}

impl Rendered {
    pub fn new(dataset_version: i64, content_type: &'static str, body: impl Into<Bytes>) -> Rendered {
        Rendered {
            dataset_version,
            content_type: HeaderValue::from_static(content_type),
            content_language: None,
            content_disposition: None,
            body: body.into(),
            status: actix_web::http::StatusCode::OK,
        }
    }

    /// The answer as 204 No Content.
    pub fn no_content(mut self) -> Rendered {
        self.status = actix_web::http::StatusCode::NO_CONTENT;
        self.body = Bytes::new();
        self
    }

    pub fn json(dataset_version: i64, body: &impl serde::Serialize) -> Result<Rendered, ApiError> {
        let text = serde_json::to_vec(body).map_err(|e| ApiError::Internal(format!("cannot write JSON: {e}")))?;
        Ok(Rendered::new(dataset_version, super::formats::JSON.media_type, text))
    }

    pub fn language(mut self, code: &'static str) -> Rendered {
        self.content_language = Some(code);
        self
    }

    /// `attachment; filename="…"`; the name is made of safe characters by the caller.
    pub fn attachment(mut self, filename: &str) -> Rendered {
        self.content_disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).ok();
        self
    }

    pub fn into_response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((DATASET_VERSION_HEADER, HeaderValue::from(self.dataset_version)));
        if self.status != actix_web::http::StatusCode::NO_CONTENT {
            r.insert_header((header::CONTENT_TYPE, self.content_type));
        }
        if let Some(lang) = self.content_language {
            r.insert_header((header::CONTENT_LANGUAGE, HeaderValue::from_static(lang)));
        }
        if let Some(d) = self.content_disposition {
            r.insert_header((header::CONTENT_DISPOSITION, d));
        }
        r.body(self.body)
    }
}

/// The headers of a [`Rendered`] answer that a cached copy replays.
pub const RENDERED_HEADERS: [HeaderName; 4] =
    [header::CONTENT_TYPE, header::CONTENT_LANGUAGE, header::CONTENT_DISPOSITION, DATASET_VERSION_HEADER];

/// Runs a handler's rendering on the pool (inline when the app has none, as in unit tests):
/// 503 with `Retry-After` when the queue is full.
pub async fn render<F>(req: &HttpRequest, job: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Result<Rendered, ApiError> + Send + 'static,
{
    rendered(req, job).await.map(Rendered::into_response)
}

/// The same, for an answer kept before it is sent.
pub async fn rendered<F>(req: &HttpRequest, job: F) -> Result<Rendered, ApiError>
where
    F: FnOnce() -> Result<Rendered, ApiError> + Send + 'static,
{
    let Some(pool) = req.app_data::<actix_web::web::Data<Offload>>() else {
        return job();
    };
    let rx =
        pool.spawn(job).map_err(|Busy| ApiError::Busy { detail: "too many answers are being prepared".into(), retry_after_seconds: 1 })?;
    match rx.await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Internal("the rendering of an answer panicked".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_refuses_beyond_its_queue() {
        let pool = Offload::new(1, 1, None);
        let (hold, held) = std::sync::mpsc::channel::<()>();
        // the thread takes the first job and blocks in it; the second waits in the queue
        let first = pool.spawn(move || held.recv().ok()).unwrap();
        // once the thread has taken the first job, one more fits in the queue
        let queued = loop {
            match pool.spawn(|| 2) {
                Ok(rx) => break rx,
                Err(Busy) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        };
        assert_eq!(pool.spawn(|| 3).unwrap_err(), Busy, "the queue holds one job");
        hold.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Some(()));
        assert_eq!(queued.await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_pool_lives_on() {
        let pool = Offload::new(1, 4, None);
        let rx = pool.spawn(|| -> u8 { panic!("boom") }).unwrap();
        assert!(rx.await.is_err());
        assert_eq!(pool.spawn(|| 7).unwrap().await.unwrap(), 7);
    }
}
