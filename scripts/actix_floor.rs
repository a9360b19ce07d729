//! The floor the benchmark measures the service against: actix-web alone, with none of the
//! service's layers, serving the very bytes nginx serves (`NAME.json.gz` from a folder given
//! as the first argument, gzip-encoded, with an ETag and a 304 on If-None-Match), on the
//! address given as the second. Its default worker count (the cores) and no logging.
//!
//! `cargo run --release --example actix-floor -- DIR 127.0.0.1:PORT`; scripts/bench.sh runs it.
#![allow(clippy::expect_used, reason = "a benchmark tool: a wrong argument stops it")]

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, Data, Path};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};

struct Body {
    gzip: Bytes,
    etag: HeaderValue,
}

async fn serve(req: HttpRequest, name: Path<String>, bodies: Data<HashMap<String, Body>>) -> HttpResponse {
    let Some(body) = bodies.get(name.trim_end_matches(".json")) else {
        return HttpResponse::NotFound().finish();
    };
    if req.headers().get(header::IF_NONE_MATCH) == Some(&body.etag) {
        return HttpResponse::NotModified().insert_header((header::ETAG, body.etag.clone())).finish();
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CONTENT_ENCODING, "gzip"))
        .insert_header((header::ETAG, body.etag.clone()))
        .body(body.gzip.clone())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, addr) = (args.get(1).expect("a folder of NAME.json.gz"), args.get(2).expect("an address to listen on"));
    let mut bodies = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json.gz")) {
            let etag = HeaderValue::from_str(&format!("\"{name}-{}\"", std::fs::metadata(&path)?.len())).expect("a quoted name");
            bodies.insert(name.to_string(), Body { gzip: Bytes::from(std::fs::read(&path)?), etag });
        }
    }
    let bodies = Data::from(Arc::new(bodies));
    HttpServer::new(move || App::new().app_data(bodies.clone()).route("/{name}", actix_web::web::get().to(serve))).bind(addr)?.run().await
}
