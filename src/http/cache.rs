//! Web caching for the read endpoints: strong ETags from the dataset version and the
//! request, `If-None-Match` → 304 without running the handler, `Cache-Control`, HEAD, and the
//! answers kept per dataset version with their gzip and brotli variants.
//!
//! An answer depends only on the served dataset version and the canonical request: the path
//! with its percent-escapes normalised, the query's parameters decoded, normalised by the
//! operation's rules (`canonical_value`) and sorted, the label language and CSV as negotiated,
//! and the base URL of links as `public_base` decides it; handlers parse every spelling into
//! the same values, so every spelling gets the same bytes, and no header a client writes
//! freely reaches the key or the body.
//!
//! The kept answers are bounded in bytes and chosen by TinyLFU (moka): a scan of one-off
//! requests does not push out the answers that are asked for again and again. Concurrent
//! misses of one answer wait for the first instead of rendering it again; compression runs
//! off the request workers (`offload`), and an answer that is kept is never refused for want
//! of a render thread: it goes out uncompressed instead.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::DATASET_VERSION_HEADER;
use super::encoding::{MIN_COMPRESS_BYTES, compress, compressible};
use super::negotiate::{Coding, from_accept_language, prefers_csv, refuses};
use super::offload::{Offload, RENDERED_HEADERS};
use super::public_base::PublicBase;
use crate::metrics::{Metrics, RequestShard};
use crate::snapshot::SnapshotCell;

/// Bodies larger than this are compressed at a lower level: brotli at level 6 takes 0.8 s for
/// a national map layer (9.6 MB), level 4 a fifth of that for a 10 % larger result.
const LARGE_BODY_BYTES: usize = 1 << 20;

/// How long a request waits for another one rendering the same answer.
const COALESCE_WAIT: Duration = Duration::from_secs(30);

/// How many answers asked for once are remembered, so that the second request for one keeps
/// it: about 3 MB of keys, the misses of half a minute of a panning map at the benchmark's rate.
const ONCE_SEEN: u64 = 32_768;

/// A rendered response, with its compressed variants made on first use; `kept` when the cache
/// holds it, else it is an answer asked for the first time, served and dropped.
pub struct Entry {
    /// 200, or 204 for an answer rightly empty (a vector tile without features): both are
    /// representations, with the same ETag, caching headers and conditions.
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    identity: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    kept: bool,
    /// Its body is deflated already ([`Entry::compressed_already`]): served as it is.
    deflated: bool,
}

impl Entry {
    /// A zip or a workbook is deflated already: compressing it again costs CPU for nothing
    /// (decided once, when the entry is made, not on each hit).
    fn compressed_already(headers: &[(HeaderName, HeaderValue)]) -> bool {
        !compressible(headers.iter().find(|(n, _)| n == header::CONTENT_TYPE).map(|(_, v)| v))
    }

    fn content_type(&self) -> Option<&HeaderValue> {
        self.headers.iter().find(|(n, _)| n == header::CONTENT_TYPE).map(|(_, v)| v)
    }

    fn variant(&self, coding: Coding) -> Option<Bytes> {
        match coding {
            Coding::Identity => Some(self.identity.clone()),
            Coding::Gzip => self.gzip.get().cloned(),
            Coding::Brotli => self.brotli.get().cloned(),
        }
    }

    /// Makes the variant if nobody has yet (CPU work: call it on the pool). A kept entry is
    /// compressed well, once for all its hits; one served once, fast (level 1: a third of the
    /// time of level 6 for a fifth more bytes; compression was 70 % of a miss).
    fn compress(&self, coding: Coding) -> Bytes {
        let level = if !self.kept {
            1
        } else if self.identity.len() > LARGE_BODY_BYTES {
            4
        } else {
            6
        };
        match coding {
            Coding::Identity => self.identity.clone(),
            Coding::Gzip => self.gzip.get_or_init(|| compress(coding, &self.identity, level)).clone(),
            Coding::Brotli => self.brotli.get_or_init(|| compress(coding, &self.identity, level)).clone(),
        }
    }

    /// The ETag of a variant: a fast-compressed one has other bytes than the kept one, so its
    /// tag is weak (RFC 9110 8.8.1); If-None-Match compares weakly, so either revalidates.
    fn variant_tag<'a>(&self, strong: &'a str, coding: Coding) -> Cow<'a, str> {
        if self.kept || coding == Coding::Identity { Cow::Borrowed(strong) } else { Cow::Owned(format!("W/{strong}")) }
    }

    /// What the entry counts against the cache's bytes: the body, and room for its variants.
    fn weight(&self) -> u32 {
        Self::weight_of(self.identity.len())
    }

    fn weight_of(n: usize) -> u32 {
        u32::try_from(n + n / 2 + 512).unwrap_or(u32::MAX)
    }
}

pub type Key = [u8; 16];

/// What a request waiting for another's rendering receives: the entry, or `None` when the
/// other's answer was not one to share (an error, or from another version).
type Shared = Option<Option<Arc<Entry>>>;

/// The kept responses of the served dataset version.
pub struct ResponseCache {
    entries: moka::sync::Cache<(i64, Key), Arc<Entry>>,
    /// Answers rendered once and not kept: most of a panning map's or a slider's requests are
    /// never asked again, and keeping each would spend the cache (and its memory) on nobody.
    once: moka::sync::Cache<(i64, Key), ()>,
    /// The version the entries are for; the entries are dropped when it changes.
    version: AtomicI64,
    capacity: u64,
    /// Answers being rendered, for requests that ask for the same meanwhile.
    inflight: Mutex<HashMap<(i64, Key), tokio::sync::watch::Receiver<Shared>>>,
    /// `Cache-Control` and `Vary` of every cached answer, made once.
    cache_control: HeaderValue,
    vary: HeaderValue,
    public_base: PublicBase,
    /// The canonical spelling of a query parameter's value, or `None` to keep it as it is.
    canonical_value: fn(&str, &str) -> Option<String>,
    offload: Arc<Offload>,
    metrics: Arc<Metrics>,
    pub snapshot: Arc<SnapshotCell>,
}

pub struct CacheSettings {
    pub capacity_bytes: u64,
    pub max_age_seconds: u64,
    pub public_base: PublicBase,
    pub canonical_value: fn(&str, &str) -> Option<String>,
    /// Name the CORS request headers in `Vary` here, made once, rather than have the CORS
    /// layer append them to every answer (it does, when it answers each origin differently).
    pub vary_cors: bool,
}

impl ResponseCache {
    #[expect(clippy::expect_used, reason = "made at startup, of digits and header names")]
    pub fn new(snapshot: Arc<SnapshotCell>, settings: CacheSettings, offload: Arc<Offload>, metrics: Arc<Metrics>) -> Self {
        let cache_control =
            HeaderValue::from_str(&format!("public, max-age={}", settings.max_age_seconds)).expect("digits are a valid header value");
        let mut vary = "Accept, Accept-Language, Accept-Encoding".to_string();
        if settings.public_base.uses_forwarded_headers() {
            vary.push_str(", Forwarded, X-Forwarded-Host, X-Forwarded-Proto");
        }
        if settings.vary_cors {
            vary.push_str(", Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        }
        let entries = moka::sync::Cache::builder().max_capacity(settings.capacity_bytes).weigher(|_, e: &Arc<Entry>| e.weight()).build();
        ResponseCache {
            entries,
            once: moka::sync::Cache::new(ONCE_SEEN),
            version: AtomicI64::new(i64::MIN),
            capacity: settings.capacity_bytes,
            inflight: Mutex::new(HashMap::new()),
            cache_control,
            vary: HeaderValue::from_str(&vary).expect("header names are a valid header value"),
            public_base: settings.public_base,
            canonical_value: settings.canonical_value,
            offload,
            metrics,
            snapshot,
        }
    }

    /// Bytes and entries kept now, for the metrics.
    pub fn size(&self) -> (u64, u64) {
        self.entries.run_pending_tasks();
        (self.entries.weighted_size(), self.entries.entry_count())
    }

    fn on_version(&self, version: i64) {
        if self.version.swap(version, Ordering::Relaxed) != version {
            // the old version's entries can never be hit again (the version is in the key)
            self.entries.invalidate_all();
            self.once.invalidate_all();
        }
    }

    fn get(&self, version: i64, key: &Key) -> Option<Arc<Entry>> {
        self.entries.get(&(version, *key))
    }

    /// Whether an answer of this weight is to be kept: not one that would take more than half
    /// the cache, and not one asked for the first time (then it is remembered, and kept when
    /// asked again). TinyLFU decides whether a kept one displaces others.
    fn admits(&self, version: i64, key: Key, weight: u32) -> bool {
        self.on_version(version);
        if u64::from(weight) > self.capacity / 2 {
            return false;
        }
        if self.once.remove(&(version, key)).is_some() {
            return true;
        }
        self.once.insert((version, key), ());
        false
    }

    fn put(&self, version: i64, key: Key, entry: Arc<Entry>) {
        self.entries.insert((version, key), entry);
    }

    /// Either another request is rendering this answer (wait on the receiver), or this one
    /// is to, and publishes through the guard.
    fn join_or_lead(self: &Arc<Self>, version: i64, key: Key) -> Result<tokio::sync::watch::Receiver<Shared>, Leader> {
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rx) = inflight.get(&(version, key)) {
            return Ok(rx.clone());
        }
        let (tx, rx) = tokio::sync::watch::channel(None);
        inflight.insert((version, key), rx);
        Err(Leader { cache: self.clone(), key: (version, key), tx: Some(tx) })
    }
}

/// The request that renders an answer others wait for; dropping it without publishing tells
/// them to render it themselves.
struct Leader {
    cache: Arc<ResponseCache>,
    key: (i64, Key),
    tx: Option<tokio::sync::watch::Sender<Shared>>,
}

impl Leader {
    fn publish(mut self, entry: Option<Arc<Entry>>) {
        if let Some(tx) = self.tx.take() {
            self.cache.inflight.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
            let _ = tx.send(Some(entry));
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            self.cache.inflight.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
            let _ = tx.send(Some(None));
        }
    }
}

/// Which paths are answered from a dataset version alone.
/// Whether a path's answers are public and may be kept: never a signed-in caller's
/// (`/v1/me`), however its path is spelt (the router decodes escapes of unreserved characters,
/// so `/v1/m%65` is `/v1/me`: the normalized path is what is read).
fn cacheable(path: &str) -> bool {
    let path = normalize_path(path);
    let path = path.as_ref();
    let private = path == "/v1/me" || path.starts_with("/v1/me/") || path.starts_with("/v1/me.");
    (path.starts_with("/v1/") && !path.starts_with("/v1/datasets") && !path.starts_with("/v1/admin") && !private)
        || path == "/ogc"
        || path.starts_with("/ogc/")
        || path.starts_with("/tiles/")
}

/// An answer that says it is not for a shared cache (`private`, `no-store`): neither kept nor
/// handed to requests waiting on the same key.
fn is_private(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers.get_all(header::CACHE_CONTROL).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|d| {
        let d = d.trim();
        d.eq_ignore_ascii_case("private") || d.eq_ignore_ascii_case("no-store")
    })
}

/// RFC 3986 6.2.2: percent-escapes of unreserved characters decoded, the others' hex digits
/// upper case; `/v1/areas/AAR%2d01` and `/v1/areas/AAR-01` are one resource.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match decoded {
            Some(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => out.push(b as char),
            Some(b) => out.push_str(&format!("%{b:02X}")),
            None => out.push(bytes[i] as char),
        }
        i += if decoded.is_some() { 3 } else { 1 };
    }
    Cow::Owned(out)
}

/// The query's parameters decoded, each value in its canonical spelling, sorted by name (a
/// repeated name keeps the order of its values).
fn canonical_pairs(raw: &str, canonical_value: fn(&str, &str) -> Option<String>) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let mut pairs: Vec<(Cow<str>, Cow<str>)> = form_urlencoded::parse(raw.as_bytes()).collect();
    for (name, value) in pairs.iter_mut() {
        if let Some(v) = canonical_value(name, value) {
            *value = Cow::Owned(v);
        }
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

/// The canonical query (see [`canonical_pairs`]) encoded again, for links that repeat it: an
/// answer that writes the query must write this, so that it is one for every spelling.
pub fn canonical_query(raw: &str, canonical_value: fn(&str, &str) -> Option<String>) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(canonical_pairs(raw, canonical_value)).finish()
}

/// The key of a request: the normalised path, the canonical query, what was negotiated from
/// the headers, and the base URL of links.
fn request_key(path: &str, pairs: &[(Cow<str>, Cow<str>)], headers: &HeaderMap, base: (&str, &str)) -> Key {
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut h = Sha256::new();
    // each piece with its length first, so that no two requests make the same input
    let mut piece = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    piece(path.as_bytes());
    for (name, value) in pairs {
        piece(name.as_bytes());
        piece(value.as_bytes());
    }
    // what the answer depends on, not the headers' spelling: whether CSV is asked for, and
    // which language the labels are in (`*/*`, no Accept at all, `en-GB` and `en` share);
    // a parameter that decides either leaves the header out
    let has = |n: &str| pairs.iter().any(|(k, _)| k == n);
    let csv = !has("format") && prefers_csv(text(header::ACCEPT)) == Some(true);
    piece(&[u8::from(csv)]);
    // (both refused is a 406 of its own, never kept)
    piece(if has("lang") { b"" } else { from_accept_language(text(header::ACCEPT_LANGUAGE)).map_or(b"-", |l| l.code().as_bytes()) });
    piece(base.0.as_bytes());
    piece(base.1.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&h.finalize()[..16]);
    key
}

/// `"VERSION-HEX16SUFFIX"`, written without `format!`: this runs for every cacheable
/// request, and formatting cost more than the rest of the ETag's work.
fn etag(version: i64, key: &Key, coding: Coding) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = String::with_capacity(40);
    tag.push('"');
    tag.push_str(itoa::Buffer::new().format(version));
    tag.push('-');
    for b in &key[..8] {
        tag.push(char::from(HEX[usize::from(b >> 4)]));
        tag.push(char::from(HEX[usize::from(b & 15)]));
    }
    tag.push_str(coding.suffix());
    tag.push('"');
    tag
}

/// What `If-None-Match` says of a representation with this ETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoneMatch {
    /// No condition, or one this tag fails: answer in full.
    Absent,
    /// The client holds this very representation.
    Tag,
    /// `*`: the client holds some representation, whichever (RFC 9110 13.1.2): a 304 only
    /// when one exists.
    Any,
}

/// Weak comparison, as If-None-Match uses.
pub fn none_match(headers: &HeaderMap, etag: &str) -> NoneMatch {
    none_match_in(headers.get_all(header::IF_NONE_MATCH), etag)
}

/// [`none_match`] of the header's values.
pub fn none_match_in<'a>(values: impl Iterator<Item = &'a HeaderValue>, etag: &str) -> NoneMatch {
    let mut any = false;
    for t in values.filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')) {
        let t = t.trim();
        if t == "*" {
            any = true;
        } else if t.strip_prefix("W/").unwrap_or(t) == etag {
            return NoneMatch::Tag;
        }
    }
    if any { NoneMatch::Any } else { NoneMatch::Absent }
}

/// RFC 9110 13.1.1: whether `If-Match` (its values as received) lets a request through to a
/// representation with this ETag: `*` (one exists), or a listed tag equal to it by strong
/// comparison; a weak tag in the list never is. (Our own weak tag, a fast-compressed variant,
/// is compared as the strong one it stands in for: it is the same answer in other bytes.)
pub fn if_match_holds(values: &[HeaderValue], etag: Option<&str>) -> bool {
    let ours = etag.map(|t| t.strip_prefix("W/").unwrap_or(t));
    values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || (Some(t) == ours && !t.starts_with("W/")))
}

/// The answer when `Accept` refuses the only representation there is (`q=0` on its type).
pub fn not_acceptable(media_type: &str) -> HttpResponse {
    let problem = crate::error::ApiError::NotAcceptable(format!("Accept refuses {media_type}, the representation this answer has"));
    actix_web::ResponseError::error_response(&problem)
}

/// The `Accept` of a request when it may refuse something (it has a `q=0`): kept for the
/// answer's media type, known only once it is made.
fn refusing_accept(headers: &HeaderMap) -> Option<String> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).filter(|a| a.contains("q=0")).map(str::to_string)
}

/// The media type an answer is refused for, if it is.
fn refused<'a>(accept: Option<&str>, content_type: Option<&'a HeaderValue>) -> Option<&'a str> {
    let t = content_type.and_then(|v| v.to_str().ok())?;
    refuses(accept?, t).then_some(t)
}

/// The answer when `If-Match` fails on a representation that exists.
pub fn precondition_failed() -> HttpResponse {
    let problem = crate::error::ApiError::PreconditionFailed(
        "If-Match: no current representation of this resource has any of the entity tags given".into(),
    );
    actix_web::ResponseError::error_response(&problem)
}

#[expect(clippy::expect_used, reason = "the tags here are made of quoted hex digits and dashes")]
fn caching_headers(r: &mut actix_web::HttpResponseBuilder, etag: &str, cache: &ResponseCache) {
    r.insert_header((header::ETAG, HeaderValue::from_str(etag).expect("an ETag is quoted hex digits")));
    r.insert_header((header::CACHE_CONTROL, cache.cache_control.clone()));
    r.insert_header((header::VARY, cache.vary.clone()));
}

fn not_modified(etag: &str, cache: &ResponseCache) -> HttpResponse {
    let mut r = HttpResponse::NotModified();
    caching_headers(&mut r, etag, cache);
    r.finish()
}

fn respond(entry: &Entry, body: Bytes, etag: &str, coding: Coding, cache: &ResponseCache) -> HttpResponse {
    let mut r = HttpResponse::build(entry.status);
    for (name, value) in &entry.headers {
        r.insert_header((name.clone(), value.clone()));
    }
    caching_headers(&mut r, etag, cache);
    if let Some(c) = coding.header() {
        r.insert_header((header::CONTENT_ENCODING, c));
    }
    if body.len() <= STREAM_CHUNK {
        return r.body(body);
    }
    // Large bodies go out in slices of the shared bytes: actix-http copies a body chunk into
    // the connection's write buffer, and a whole map layer per slow reader would cost
    // megabytes each; slices bound that to STREAM_CHUNK per connection.
    let len = body.len() as u64;
    let chunks = (0..body.len())
        .step_by(STREAM_CHUNK)
        .map(move |at| Ok::<_, std::convert::Infallible>(body.slice(at..(at + STREAM_CHUNK).min(body.len()))));
    r.body(actix_web::body::SizedStream::new(len, futures_util::stream::iter(chunks)))
}

/// The slice size for sending large cached bodies.
const STREAM_CHUNK: usize = 1024 * 1024;

/// The coding an entry goes out in: none when the body is too small to gain or deflated already.
fn coding_for(entry: &Entry, coding: Coding) -> Coding {
    if entry.identity.len() < MIN_COMPRESS_BYTES || entry.deflated { Coding::Identity } else { coding }
}

/// Serves a kept entry when the variant in its coding is made already (no waiting).
fn serve_made(cache: &ResponseCache, entry: &Entry, version: i64, key: &Key, coding: Coding, tag: &str) -> Option<HttpResponse> {
    let coding = coding_for(entry, coding);
    let body = entry.variant(coding)?;
    let tag = if coding == Coding::Identity { Cow::Owned(etag(version, key, coding)) } else { entry.variant_tag(tag, coding) };
    Some(respond(entry, body, &tag, coding, cache))
}

/// Serves a kept entry in the negotiated coding, compressing on the pool the first time; when
/// the pool is full, or the body too small to gain, it goes out uncompressed with its own ETag.
async fn serve(cache: &ResponseCache, entry: Arc<Entry>, version: i64, key: &Key, coding: Coding, tag: &str) -> HttpResponse {
    if let Some(res) = serve_made(cache, &entry, version, key, coding, tag) {
        return res;
    }
    let coding = coding_for(&entry, coding);
    let job = entry.clone();
    if let Ok(rx) = cache.offload.spawn(move || job.compress(coding))
        && let Ok(body) = rx.await
    {
        return respond(&entry, body, &entry.variant_tag(tag, coding), coding, cache);
    }
    respond(&entry, entry.identity.clone(), &etag(version, key, Coding::Identity), Coding::Identity, cache)
}

/// The caching layer, in front of the read endpoints. HEAD is answered as GET (actix-http
/// leaves out the body). A plain service rather than `from_fn`: a 304 and a hit whose variant
/// is made are answered at once, with no future boxed and no reference counted per request.
pub struct Caching {
    cache: Arc<ResponseCache>,
}

impl Caching {
    pub fn new(cache: Arc<ResponseCache>) -> Self {
        Caching { cache }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Caching
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = CachingService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let metrics = self.cache.metrics.shard();
        std::future::ready(Ok(CachingService { service: Rc::new(service), cache: self.cache.clone(), keys: RefCell::default(), metrics }))
    }
}

pub struct CachingService<S> {
    service: Rc<S>,
    cache: Arc<ResponseCache>,
    keys: RefCell<KeyMemo>,
    /// this worker's counts of lookups
    metrics: Arc<RequestShard>,
}

/// How many request keys a worker remembers, and of requests up to what size (a request line
/// may be 16 KB: 4096 of those would be 64 MB a worker; these bound the memo to 4 MB).
const KEYS_REMEMBERED: usize = 4096;
const KEY_BYTES_REMEMBERED: usize = 1024;

/// The keys of the requests a worker saw lately, by the bytes the key is made from as the
/// request spells them (path, query, the first Accept and Accept-Language, the base URL of
/// links): the same bytes make the same key, so a repeated request skips decoding,
/// canonicalising and hashing its query (a third of a 304's work in the layer). A memo of a
/// pure function, per worker and so without a lock: cleared when full, as any key is made
/// again at the cost of one computation, there is no policy to choose (and no crate for one).
#[derive(Default)]
struct KeyMemo {
    keys: HashMap<Box<[u8]>, Key, foldhash::fast::RandomState>,
    /// the bytes of the request being looked up (kept, so that a lookup allocates nothing)
    scratch: Vec<u8>,
}

impl KeyMemo {
    fn key(
        &mut self,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        base: (&str, &str),
        canonical_value: fn(&str, &str) -> Option<String>,
    ) -> Key {
        let first = |name: HeaderName| headers.get(name).map_or(&b""[..], HeaderValue::as_bytes);
        self.scratch.clear();
        for piece in
            [path.as_bytes(), query.as_bytes(), first(header::ACCEPT), first(header::ACCEPT_LANGUAGE), base.0.as_bytes(), base.1.as_bytes()]
        {
            self.scratch.extend_from_slice(&(piece.len() as u64).to_le_bytes());
            self.scratch.extend_from_slice(piece);
        }
        if let Some(key) = self.keys.get(&self.scratch[..]) {
            return *key;
        }
        let key = request_key(&normalize_path(path), &canonical_pairs(query, canonical_value), headers, base);
        if self.scratch.len() > KEY_BYTES_REMEMBERED {
            return key;
        }
        if self.keys.len() >= KEYS_REMEMBERED {
            self.keys.clear();
        }
        self.keys.insert(self.scratch.as_slice().into(), key);
        key
    }
}

type Answer = Result<ServiceResponse<BoxBody>, actix_web::Error>;

impl<S, B> Service<ServiceRequest> for CachingService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = futures_util::future::Either<std::future::Ready<Answer>, LocalBoxFuture<'static, Answer>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        use futures_util::future::Either;
        if req.method() == Method::HEAD {
            req.head_mut().method = Method::GET;
        }
        let cache = &self.cache;
        // (rare: kept only when sent, and then every fast path is left for the slow one)
        let if_match: Vec<HeaderValue> =
            if req.method() == Method::GET { req.headers().get_all(header::IF_MATCH).cloned().collect() } else { Vec::new() };
        let accept = refusing_accept(req.headers());
        let (Some(version), true) = (cache.snapshot.version(), req.method() == Method::GET && cacheable(req.path())) else {
            let answer = self.service.call(req);
            return Either::Right(Box::pin(async move {
                let res = answer.await?;
                if !res.status().is_success() {
                    return Ok(res.map_into_boxed_body());
                }
                // an answer that exists, whose ETag (if it has one) is none of those given, or
                // whose media type the client refuses
                let tag = res.headers().get(header::ETAG).and_then(|v| v.to_str().ok());
                let out = if !if_match.is_empty() && !if_match_holds(&if_match, tag) {
                    precondition_failed()
                } else if let Some(t) = refused(accept.as_deref(), res.headers().get(header::CONTENT_TYPE)) {
                    not_acceptable(t)
                } else {
                    return Ok(res.map_into_boxed_body());
                };
                Ok(ServiceResponse::new(res.into_parts().0, out))
            }));
        };
        // The key is the canonical request's. The handlers read the query as sent: they parse
        // it into the same values whatever the spelling (canonical_value's contract), and what
        // repeats the query (the OGC API's links) writes the canonical one.
        let peer: Option<IpAddr> = req.peer_addr().map(|a| a.ip());
        let base = cache.public_base.resolve_parts(req.head(), peer);
        let key = self.keys.borrow_mut().key(req.path(), req.query_string(), req.headers(), (&base.0, &base.1), cache.canonical_value);
        let coding = Coding::negotiate(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
        let tag = etag(version, &key, coding);
        let condition = none_match(req.headers(), &tag);
        if !if_match.is_empty() {
            // If-Match is decided first (RFC 9110 13.2.2), on the answer as it would be sent
            let request = Request { version, key, coding, tag, condition, if_match, accept };
            let hit = cache.get(version, &key);
            return Either::Right(Box::pin(answer(cache.clone(), self.metrics.clone(), self.service.clone(), req, request, hit)));
        }
        if condition == NoneMatch::Tag {
            self.metrics.count_cache("not_modified");
            return Either::Left(std::future::ready(Ok(req.into_response(not_modified(&tag, cache)))));
        }
        let hit = cache.get(version, &key);
        if let Some(entry) = &hit {
            self.metrics.count_cache("hit");
            if condition == NoneMatch::Any {
                return Either::Left(std::future::ready(Ok(req.into_response(not_modified(&tag, cache)))));
            }
            if let Some(t) = refused(accept.as_deref(), entry.content_type()) {
                return Either::Left(std::future::ready(Ok(req.into_response(not_acceptable(t)))));
            }
            if let Some(res) = serve_made(cache, entry, version, &key, coding, &tag) {
                return Either::Left(std::future::ready(Ok(req.into_response(res))));
            }
        }
        let request = Request { version, key, coding, tag, condition, if_match, accept };
        Either::Right(Box::pin(answer(cache.clone(), self.metrics.clone(), self.service.clone(), req, request, hit)))
    }
}

/// What the layer decided of a request before it waits for anything.
struct Request {
    version: i64,
    key: Key,
    coding: Coding,
    tag: String,
    condition: NoneMatch,
    /// `If-Match` as received (empty without one)
    if_match: Vec<HeaderValue>,
    /// `Accept`, when it may refuse the answer's media type
    accept: Option<String>,
}

impl Request {
    /// The answer for an entry: 412 when If-Match fails on the variant that would be sent,
    /// 304 when If-None-Match holds, else the entry in the negotiated coding.
    async fn finish(&self, cache: &ResponseCache, entry: Arc<Entry>) -> HttpResponse {
        let Request { version, key, coding, tag, condition, if_match, accept } = self;
        if !if_match.is_empty() && !if_match_holds(if_match, Some(&etag(*version, key, coding_for(&entry, *coding)))) {
            return precondition_failed();
        }
        if let Some(t) = refused(accept.as_deref(), entry.content_type()) {
            return not_acceptable(t);
        }
        // (a Tag never comes here without If-Match: the layer answers it at once)
        if *condition != NoneMatch::Absent {
            return not_modified(tag, cache);
        }
        serve(cache, entry, *version, key, *coding, tag).await
    }
}

/// A request that waits: for a variant's compression, for another request rendering the same
/// answer, or for the handler.
async fn answer<S, B>(
    cache: Arc<ResponseCache>,
    metrics: Arc<RequestShard>,
    service: Rc<S>,
    mut req: ServiceRequest,
    r: Request,
    hit: Option<Arc<Entry>>,
) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    if let Some(entry) = hit {
        return Ok(req.into_response(r.finish(&cache, entry).await));
    }
    let leader = match cache.join_or_lead(r.version, r.key) {
        Ok(mut rx) => {
            let shared = tokio::time::timeout(COALESCE_WAIT, rx.wait_for(Option::is_some)).await;
            if let Ok(Ok(shared)) = shared
                && let Some(Some(entry)) = shared.clone()
            {
                metrics.count_cache("coalesced");
                return Ok(req.into_response(r.finish(&cache, entry).await));
            }
            // the other request's answer was not one to share: render it here
            None
        }
        Err(leader) => Some(leader),
    };
    metrics.count_cache("miss");
    // the handler's answer is kept as it is, uncompressed: no coding is negotiated inside
    req.headers_mut().remove(header::ACCEPT_ENCODING);
    let res = service.call(req).await?;
    // only successful answers from the version named in the ETag are kept
    let answered_version = res.headers().get(DATASET_VERSION_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
    let status = res.status();
    if !matches!(status, StatusCode::OK | StatusCode::NO_CONTENT) || answered_version != Some(r.version) || is_private(res.headers()) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let headers: Vec<(HeaderName, HeaderValue)> =
        RENDERED_HEADERS.iter().filter_map(|n| res.headers().get(n).map(|v| (n.clone(), v.clone()))).collect();
    // (the handlers' bodies are in memory already: reading one whole costs no more)
    let Ok(body) = body::to_bytes(res.into_body()).await else {
        let problem = crate::error::ApiError::Internal("response body could not be read".into());
        return Ok(ServiceResponse::new(req, actix_web::ResponseError::error_response(&problem)));
    };
    let (version, key) = (r.version, r.key);
    let weight = Entry::weight_of(body.len());
    let kept = cache.admits(version, key, weight);
    let deflated = Entry::compressed_already(&headers);
    let entry = Arc::new(Entry { status, headers, identity: body, gzip: OnceLock::new(), brotli: OnceLock::new(), kept, deflated });
    if kept {
        cache.put(version, key, entry.clone());
    }
    if let Some(leader) = leader {
        leader.publish(Some(entry.clone()));
    }
    let out = r.finish(&cache, entry).await;
    Ok(ServiceResponse::new(req, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_in_answers_are_never_kept() {
        assert!(cacheable("/v1/areas"));
        for path in ["/v1/me", "/v1/me/departments", "/v1/m%65/departments", "/v1/%6De", "/v1/me.csv"] {
            assert!(!cacheable(path), "{path}");
        }
        assert!(cacheable("/v1/meters"), "only the /v1/me routes");
        let mut h = actix_web::http::header::HeaderMap::new();
        assert!(!is_private(&h));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60, Private"));
        assert!(is_private(&h));
    }

    #[test]
    fn etags_are_written_as_format_would() {
        // (as they were before being written by hand: clients' kept ETags stay valid)
        let key: Key = [0x00, 0x1f, 0xa0, 0xff, 0x12, 0x34, 0xab, 0xcd, 9, 9, 9, 9, 9, 9, 9, 9];
        for version in [0, 1, 9, 10, 4711, i64::MAX, -1, i64::MIN] {
            for coding in [Coding::Identity, Coding::Gzip, Coding::Brotli] {
                let expected = format!("\"{version}-{:016x}{}\"", u64::from_be_bytes(key[..8].try_into().unwrap()), coding.suffix());
                assert_eq!(etag(version, &key, coding), expected);
            }
        }
    }

    #[test]
    fn if_none_match() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"1-ab\", W/\"2-cd\""));
        assert_eq!(none_match(&h, "\"1-ab\""), NoneMatch::Tag);
        assert_eq!(none_match(&h, "\"2-cd\""), NoneMatch::Tag);
        assert_eq!(none_match(&h, "\"3-ef\""), NoneMatch::Absent);
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert_eq!(none_match(&h, "\"anything\""), NoneMatch::Any);
        assert_eq!(none_match(&HeaderMap::new(), "\"1-ab\""), NoneMatch::Absent);
    }

    fn keep(_: &str, _: &str) -> Option<String> {
        None
    }

    fn numbers(name: &str, value: &str) -> Option<String> {
        (name == "threshold").then(|| value.trim().parse::<f64>().ok().map(|v| v.to_string())).flatten()
    }

    #[test]
    fn queries_are_canonical() {
        assert_eq!(canonical_query("to=2023&from=2015&indicator=x", keep), "from=2015&indicator=x&to=2023");
        assert_eq!(canonical_query("q=a+b&bbox=9.9%2C56", keep), canonical_query("bbox=9.9,56&q=a%20b", keep));
        assert_eq!(canonical_query("threshold=5.00&a=1", numbers), "a=1&threshold=5");
        assert_eq!(canonical_query("threshold=x", numbers), "threshold=x", "what does not parse is left to the handler");
        assert_eq!(canonical_query("b=2&a=1&b=1", keep), "a=1&b=2&b=1", "repeated names keep their order");
        assert_eq!(canonical_query("", keep), "");
        assert_eq!(canonical_query("&&", keep), "");
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize_path("/v1/areas/AAR%2d01"), "/v1/areas/AAR-01");
        assert_eq!(normalize_path("/v1/areas/a%2fb"), "/v1/areas/a%2Fb");
        assert_eq!(normalize_path("/v1/areas/x%zz%4"), "/v1/areas/x%zz%4");
        assert!(matches!(normalize_path("/v1/areas"), Cow::Borrowed(_)));
    }

    #[test]
    fn remembered_keys_are_the_keys() {
        let mut memo = KeyMemo::default();
        let mut h = HeaderMap::new();
        let key = |memo: &mut KeyMemo, path: &str, query: &str, h: &HeaderMap, base: &str| {
            let made = request_key(&normalize_path(path), &canonical_pairs(query, numbers), h, (base, ""));
            assert_eq!(memo.key(path, query, h, (base, ""), numbers), made, "{path}?{query} {h:?} {base}");
            made
        };
        for _ in 0..2 {
            // (twice: made, then remembered)
            let plain = key(&mut memo, "/v1/x", "threshold=5.0&a=1", &h, "http://h");
            assert_eq!(plain, key(&mut memo, "/v1/x", "a=1&threshold=5", &h, "http://h"), "another spelling, the same key");
            assert_ne!(plain, key(&mut memo, "/v1/x", "a=1&threshold=5", &h, "https://h"));
            assert_ne!(plain, key(&mut memo, "/v1/x", "a=1&threshold=6", &h, "http://h"));
            assert_ne!(plain, key(&mut memo, "/v1/xa", "=1&threshold=5", &h, "http://h"), "the pieces' bounds count");
        }
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en"));
        let en = key(&mut memo, "/v1/x", "a=1", &h, "http://h");
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("da"));
        assert_ne!(en, key(&mut memo, "/v1/x", "a=1", &h, "http://h"), "a remembered key is not another header's");
        h.insert(header::ACCEPT, HeaderValue::from_static("text/csv"));
        key(&mut memo, "/v1/x", "a=1", &h, "http://h");
        // bounded: full, it starts again; a long request is not remembered
        for i in 0..KEYS_REMEMBERED + 10 {
            key(&mut memo, "/v1/x", &format!("a={i}"), &h, "http://h");
        }
        assert!(memo.keys.len() <= KEYS_REMEMBERED);
        let before = memo.keys.len();
        let long = format!("a={}", "x".repeat(KEY_BYTES_REMEMBERED));
        key(&mut memo, "/v1/x", &long, &h, "http://h");
        key(&mut memo, "/v1/x", &long, &h, "http://h");
        assert_eq!(memo.keys.len(), before);
    }

    #[test]
    fn keys_ignore_what_the_answer_does_not_depend_on() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
            }
            h
        };
        let key = |path: &str, query: &str, h: &HeaderMap, base: &str| request_key(path, &canonical_pairs(query, keep), h, (base, ""));
        let plain = key("/v1/x", "a=1", &headers(&[]), "http://h");
        assert_eq!(plain, key("/v1/x", "a=1", &headers(&[("accept", "*/*"), ("accept-language", "da-DK")]), "http://h"));
        assert_ne!(plain, key("/v1/x", "a=1", &headers(&[("accept-language", "en")]), "http://h"));
        assert_ne!(plain, key("/v1/x", "a=1", &headers(&[("accept", "text/csv")]), "http://h"));
        assert_ne!(plain, key("/v1/x", "a=1", &headers(&[]), "https://h"));
        // a parameter that decides the language or the format leaves the header out
        let en = key("/v1/x", "lang=en", &headers(&[("accept-language", "da")]), "http://h");
        assert_eq!(en, key("/v1/x", "lang=en", &headers(&[("accept-language", "en")]), "http://h"));
        let json = key("/v1/x", "format=json", &headers(&[("accept", "text/csv")]), "http://h");
        assert_eq!(json, key("/v1/x", "format=json", &headers(&[]), "http://h"));
        // no two different requests feed the hash the same bytes
        assert_ne!(key("/v1/x", "a=bc", &headers(&[]), "http://h"), key("/v1/x", "ab=c", &headers(&[]), "http://h"));
        assert_ne!(key("/v1/x", "a=1&b=2", &headers(&[]), "http://h"), key("/v1/x", "a=1%26b%3D2", &headers(&[]), "http://h"));
    }
}
