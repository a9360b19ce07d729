//! Signed-in access against a real OpenID Provider: panva's certified `oidc-provider` (npm,
//! tests/oidc), started here with keys of its own. The tokens it mints for a client are
//! verified by discovery and its JWKS; what it refuses to grant, and what it grants to
//! another audience, is not let in; a provider that is gone lets nobody in.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use boligsocial::http::auth::{AuthError, Caller, Verifier};
use boligsocial::settings::AuthSettings;

use crate::common::absent;

const RESOURCE: &str = "https://api.boligsocial.test/";

/// The provider, killed when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Started and answering its discovery document; `None` (a skip, or a failure under
    /// BOLIGSOCIAL_TEST_REQUIRE_OIDC=1) without node or tests/oidc's node_modules.
    pub async fn start() -> Option<Provider> {
        Provider::start_with(&[]).await
    }

    /// Started with the map page's public client, which may return to `redirect_uri`.
    pub async fn start_for_map(redirect_uri: &str) -> Option<Provider> {
        Provider::start_with(&[("MAP_REDIRECT_URIS", redirect_uri)]).await
    }

    async fn start_with(env: &[(&str, &str)]) -> Option<Provider> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        if !dir.join("node_modules/oidc-provider").exists() {
            absent("BOLIGSOCIAL_TEST_REQUIRE_OIDC", "tests/oidc has no node_modules (npm ci there)");
            return None;
        }
        // The port is free when picked but may be taken before node binds it, and node with
        // oidc-provider can take many seconds to start on a machine busy with the other tests:
        // a provider that exited is started again on another port, one that is slow is waited for.
        let mut last_error = String::new();
        for _attempt in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let stderr = tempfile::NamedTempFile::new().expect("a temporary file");
            let child = Command::new("node")
                .arg("provider.js")
                .current_dir(&dir)
                .env("PORT", port.to_string())
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(stderr.reopen().expect("the temporary file reopens"))
                .spawn()
                .expect("node runs");
            let mut provider = Provider { child, issuer: format!("http://127.0.0.1:{port}") };
            let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
            let deadline = std::time::Instant::now() + Duration::from_secs(90);
            while std::time::Instant::now() < deadline {
                if reqwest::get(&discovery).await.is_ok_and(|r| r.status().is_success()) {
                    return Some(provider);
                }
                if provider.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            last_error = std::fs::read_to_string(stderr.path()).unwrap_or_default();
        }
        panic!("the OpenID Provider did not start: {last_error}");
    }

    /// An access token for a client by the client-credentials grant.
    pub async fn token(&self, client: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials"), ("resource", RESOURCE)];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let r = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(format!("{client}-secret")))
            .form(&form)
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap_or_else(|| panic!("no token: {body}")).to_string()
    }

    fn verifier(&self, edit: impl FnOnce(&mut AuthSettings)) -> Verifier {
        let mut settings = AuthSettings { issuer: Some(self.issuer.clone()), ..AuthSettings::default() };
        edit(&mut settings);
        Verifier::from_settings(&settings).unwrap().unwrap()
    }
}

#[tokio::test]
async fn the_providers_access_tokens_name_their_caller() {
    let Some(provider) = Provider::start().await else { return };
    let verifier = provider.verifier(|_| {});
    let token = provider.token("kommune-it", Some("boligsocial:departments")).await;
    let caller = verifier.verify(&token).await.unwrap();
    assert_eq!(
        Caller { jti: None, ..caller.clone() },
        Caller { sub: "kommune-it".into(), cvr: "29189846".into(), client_id: Some("kommune-it".into()), jti: None }
    );
    assert!(caller.jti.is_some_and(|j| !j.is_empty()), "the provider names each token");

    // a token of the provider without the scope: 403, not 401
    let unscoped = provider.token("no-scope", None).await;
    assert_eq!(verifier.verify(&unscoped).await, Err(AuthError::InsufficientScope));
    // a service that is another audience does not take the token
    let elsewhere = provider.verifier(|s| s.audience = "another-service".into());
    assert_eq!(elsewhere.verify(&token).await, Err(AuthError::Invalid("another audience")));
    // one character of the claims changed: the signature no longer holds
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flipped);
    assert!(matches!(verifier.verify(&parts.join(".")).await, Err(AuthError::Invalid(_))));
}

#[tokio::test]
async fn a_provider_that_is_gone_lets_nobody_in() {
    let Some(provider) = Provider::start().await else { return };
    let token = provider.token("kommune-it", Some("boligsocial:departments")).await;
    let verifier = provider.verifier(|_| {});
    drop(provider);
    assert!(matches!(verifier.verify(&token).await, Err(AuthError::KeysUnavailable(_))));
}

/// Off without an issuer (and `/v1/me` not found); an algorithm that cannot be verified with a
/// public key is refused when the settings are read, not at the first token.
#[test]
fn settings_decide_whether_and_how() {
    assert!(Verifier::from_settings(&AuthSettings::default()).unwrap().is_none());
    for algorithms in ["HS256", "RS256, HS512", "none", ""] {
        let s = AuthSettings { issuer: Some("https://idp.example".into()), algorithms: algorithms.into(), ..AuthSettings::default() };
        assert!(Verifier::from_settings(&s).is_err(), "{algorithms:?}");
    }
}
