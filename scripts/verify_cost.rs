//! What validating an access token costs (scripts/bench_signed_in.sh): the service's own
//! verifier on tokens signed with the test keys (RS256 and ES256), keys already fetched, on one
//! core: a token seen for the first time (its signature checked), and one seen before (kept).

#![allow(clippy::expect_used, reason = "a measuring tool on the test keys: a failure is a broken checkout")]

use std::time::Instant;

use boligsocial::http::auth::{KeySource, Verifier};
use boligsocial::settings::AuthSettings;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

const ISSUER: &str = "https://login.example.org";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{root}/tests/fixtures/auth/{f}")).expect("a test key");
    let jwks = serde_json::from_str(&read("jwks.json")).expect("the test JWKS");
    let settings = AuthSettings { issuer: Some(ISSUER.into()), ..AuthSettings::default() };
    let verifier = Verifier::new(ISSUER.into(), &settings, KeySource::Fixed(jwks)).expect("a verifier");
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({"iss": ISSUER, "aud": "boligsocial", "sub": "bench", "exp": now + 3600, "iat": now,
        "scope": "boligsocial:departments", "cvr": "12345678", "jti": "j"});
    for (alg, kid, key) in [
        (Algorithm::RS256, "rsa-1", EncodingKey::from_rsa_pem(read("rsa.pem").as_bytes()).expect("RSA")),
        (Algorithm::ES256, "ec-1", EncodingKey::from_ec_pem(read("ec.pem").as_bytes()).expect("EC")),
    ] {
        let header = Header { typ: Some("at+jwt".into()), kid: Some(kid.into()), ..Header::new(alg) };
        let n = 2_000;
        let tokens: Vec<String> = (0..n)
            .map(|i| {
                let mut c = claims.clone();
                c["jti"] = serde_json::json!(format!("j-{i}"));
                encode(&header, &c, &key).expect("signed")
            })
            .collect();
        let started = Instant::now();
        for token in &tokens {
            verifier.verify(token).await.expect("valid");
        }
        let first = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        let started = Instant::now();
        for _ in 0..n {
            verifier.verify(&tokens[0]).await.expect("valid");
        }
        let kept = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("{alg:?} {first:.1} {kept:.1}");
    }
}
