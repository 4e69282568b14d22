//! OAuth refresh against the local portal and a scripted token endpoint on 127.0.0.1: the
//! endpoint's scheme, its answer (lifetime, size, error codes), a refresh that outlives the
//! callers that started it, a failure shared by every queued caller, and the store's timeout.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use b24_core::Error;
use b24_mock_portal::{MockPortal, OAuthToken, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{
    Client, ConfigError, OAuthConfig, OAuthTokens, StoreError, TokenRefreshError, TokenStore,
    MAX_TOKEN_LIFETIME,
};
use reqwest::Url;
use serde_json::json;
use tokio::sync::{watch, Notify};

const CLIENT_SECRET: &str = "app-secret-5f0c";
const OLD_REFRESH: &str = "old-refresh-token";

type Reply = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A token endpoint whose answer to the `n`-th request (from 0) the test scripts.
struct TokenEndpoint {
    url: Url,
    hits: Arc<AtomicUsize>,
}

impl TokenEndpoint {
    async fn start(
        script: impl Fn(usize, HashMap<String, String>) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/oauth/token/",
            axum::routing::get(
                move |axum::extract::Query(query): axum::extract::Query<
                    HashMap<String, String>,
                >| {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    script(n, query)
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        TokenEndpoint {
            url: format!("http://{addr}/oauth/token/").parse().unwrap(),
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The answer to a good refresh: the new pair, checking what was sent.
fn new_pair(query: &HashMap<String, String>) -> Response {
    let sent = |k: &str| query.get(k).map(String::as_str);
    if sent("grant_type") != Some("refresh_token")
        || sent("client_secret") != Some(CLIENT_SECRET)
        || sent("refresh_token") != Some(OLD_REFRESH)
    {
        return spent();
    }
    axum::Json(json!({
        "access_token": "new-access-token",
        "refresh_token": "new-refresh-token",
        "expires_in": 3600,
    }))
    .into_response()
}

/// What the real server answers a refresh token that was already used or revoked.
fn spent() -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": "Invalid grant"})),
    )
        .into_response()
}

fn reply(response: Response) -> Reply {
    Box::pin(async move { response })
}

/// Saves into memory and says so on a channel.
struct MemoryStore {
    saved: Mutex<Vec<OAuthTokens>>,
    count: watch::Sender<usize>,
}

impl MemoryStore {
    fn new() -> Arc<Self> {
        Arc::new(MemoryStore {
            saved: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
        })
    }

    fn saved(&self) -> Vec<OAuthTokens> {
        self.saved.lock().unwrap().clone()
    }
}

impl TokenStore for MemoryStore {
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(async move {
            let mut saved = self.saved.lock().unwrap();
            saved.push(tokens.clone());
            self.count.send_replace(saved.len());
            Ok(())
        })
    }
}

/// A portal where `old-access-token` has expired and `new-access-token` works.
async fn portal() -> MockPortal {
    MockPortal::start(
        PortalConfig::default()
            .with_token(OAuthToken::new("old-access-token", &["imopenlines"]).expired())
            .with_token(OAuthToken::new("new-access-token", &["imopenlines"])),
    )
    .await
    .unwrap()
}

fn config(endpoint: &TokenEndpoint) -> OAuthConfig {
    OAuthConfig::new("app.1", CLIENT_SECRET).with_token_endpoint(endpoint.url.clone())
}

fn oauth_client(portal: &MockPortal, config: OAuthConfig) -> Client {
    Client::builder_oauth(&portal.base_url(), "old-access-token")
        .refresh(OLD_REFRESH, config)
        .build()
        .unwrap()
}

/// The reason of a failed refresh, or a description of what came instead.
fn refresh_failure<T: std::fmt::Debug>(
    result: Result<T, Error<impl b24_core::MethodErrorCode>>,
) -> TokenRefreshError {
    match result {
        Err(Error::TokenRefresh { reason, .. }) => reason,
        other => panic!("expected a failed refresh, got {other:?}"),
    }
}

/// The client secret and the refresh token travel in the token request: plain http is
/// refused for anything but loopback, as for the portal itself.
#[tokio::test]
async fn the_token_endpoint_must_be_https_except_loopback() {
    let build = |endpoint: &str| {
        Client::builder_oauth("https://example.bitrix24.ru", "old-access-token")
            .refresh(
                OLD_REFRESH,
                OAuthConfig::new("app.1", CLIENT_SECRET)
                    .with_token_endpoint(endpoint.parse().unwrap()),
            )
            .build()
    };
    let err = build("http://oauth.example.com/oauth/token/").unwrap_err();
    assert_eq!(
        err,
        ConfigError::HttpsRequired {
            what: "OAuth token endpoint"
        }
    );
    assert!(!format!("{err} {err:?}").contains(CLIENT_SECRET));
    assert!(matches!(
        build("ftp://oauth.example.com/oauth/token/"),
        Err(ConfigError::InvalidUrl { .. })
    ));
    for fine in [
        "https://oauth.bitrix.info/oauth/token/",
        "http://127.0.0.1:8080/oauth/token/",
        "http://localhost/oauth/token/",
        "http://[::1]/oauth/token/",
    ] {
        assert!(build(fine).is_ok(), "{fine}");
    }
    // The default endpoint is https.
    let default = Client::builder_oauth("https://example.bitrix24.ru", "t")
        .refresh(OLD_REFRESH, OAuthConfig::new("app.1", CLIENT_SECRET))
        .build();
    assert!(default.is_ok());
}

/// `expires_in` of `u64::MAX` seconds, as a number or a string, used to overflow
/// `SystemTime + Duration` and panic inside the call; it is capped now.
#[tokio::test]
async fn an_endless_expires_in_is_capped_not_a_panic() {
    for expires_in in [json!(u64::MAX), json!(u64::MAX.to_string())] {
        let portal = portal().await;
        let endpoint = TokenEndpoint::start(move |_, _| {
            reply(
                axum::Json(json!({
                    "access_token": "new-access-token",
                    "refresh_token": "new-refresh-token",
                    "expires_in": expires_in,
                }))
                .into_response(),
            )
        })
        .await;
        let client = oauth_client(&portal, config(&endpoint));
        let before = SystemTime::now();
        client.call(&Request::chat_id(1777)).await.unwrap();
        let tokens = client.oauth_tokens().unwrap();
        assert_eq!(tokens.access_token.expose(), "new-access-token");
        let expires_at = tokens.expires_at.unwrap();
        assert!(expires_at > before);
        assert!(expires_at <= SystemTime::now() + MAX_TOKEN_LIFETIME);
    }
}

/// An answer over the size cap is refused, whether its length is declared or it streams.
#[tokio::test]
async fn an_oversized_token_answer_is_refused() {
    // A valid answer padded to 1 MiB, which the old code read whole and accepted.
    let padded = serde_json::to_vec(&json!({
        "access_token": "new-access-token",
        "refresh_token": "new-refresh-token",
        "padding": "x".repeat(1 << 20),
    }))
    .unwrap();
    for streamed in [false, true] {
        let portal = portal().await;
        let body = padded.clone();
        let endpoint = TokenEndpoint::start(move |_, _| {
            let body = body.clone();
            reply(if streamed {
                let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                    body.chunks(4096).map(|c| Ok(c.to_vec())).collect();
                Response::new(axum::body::Body::from_stream(futures_util::stream::iter(
                    chunks,
                )))
            } else {
                body.into_response()
            })
        })
        .await;
        let client = oauth_client(&portal, config(&endpoint));
        let reason = refresh_failure(client.call(&Request::chat_id(1777)).await);
        assert!(
            matches!(&reason, TokenRefreshError::InvalidAnswer { reason, .. } if reason.contains("limit")),
            "streamed {streamed}: {reason:?}"
        );
        assert_eq!(
            client.oauth_tokens().unwrap().access_token.expose(),
            "old-access-token"
        );
    }
}

/// `invalid_grant` (a refresh token revoked or used twice) is its own error, distinct from
/// wrong credentials or an application missing from the portal (`invalid_client`) and from an
/// endpoint that cannot be reached; it is also final: later calls get it without asking the
/// endpoint again.
#[tokio::test]
async fn invalid_grant_is_typed_apart_from_other_failures() {
    let portal = portal().await;
    let endpoint = TokenEndpoint::start(|_, _| reply(spent())).await;
    let client = oauth_client(&portal, config(&endpoint));
    for _ in 0..3 {
        let reason = refresh_failure(client.call(&Request::chat_id(1777)).await);
        assert!(
            matches!(&reason, TokenRefreshError::InvalidGrant { description } if description == "Invalid grant"),
            "{reason:?}"
        );
    }
    assert_eq!(
        endpoint.hits(),
        1,
        "a spent refresh token is not tried again"
    );

    let endpoint = TokenEndpoint::start(|_, _| {
        reply(
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "invalid_client", "error_description": "Unknown app"})),
            )
                .into_response(),
        )
    })
    .await;
    let client = oauth_client(&portal, config(&endpoint));
    let reason = refresh_failure(client.call(&Request::chat_id(1777)).await);
    assert!(
        matches!(reason, TokenRefreshError::InvalidClient { .. }),
        "{reason:?}"
    );

    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: Url = format!("http://{}/oauth/token/", closed.local_addr().unwrap())
        .parse()
        .unwrap();
    drop(closed);
    let client = client_with_endpoint(&portal, url);
    let err = client.call(&Request::chat_id(1777)).await;
    let text = format!("{err:?}");
    let reason = refresh_failure(err);
    assert!(
        matches!(reason, TokenRefreshError::Transport { .. }),
        "{reason:?}"
    );
    assert!(
        !text.contains(CLIENT_SECRET) && !text.contains(OLD_REFRESH),
        "{text}"
    );
}

fn client_with_endpoint(portal: &MockPortal, url: Url) -> Client {
    oauth_client(
        portal,
        OAuthConfig::new("app.1", CLIENT_SECRET).with_token_endpoint(url),
    )
}

/// Eight calls meet `expired_token` together and the one refresh fails: all eight get its
/// error, and the endpoint is asked once (each queued caller used to try again in turn, each
/// waiting up to the full timeout). The failure is not final: a later call tries again.
#[tokio::test]
async fn a_failed_refresh_fails_every_queued_caller_at_once() {
    const CALLERS: u64 = 8;
    let portal = Arc::new(portal().await);
    let seen_by_portal = portal.clone();
    let endpoint = TokenEndpoint::start(move |n, query| {
        let portal = seen_by_portal.clone();
        Box::pin(async move {
            if n > 0 {
                return new_pair(&query);
            }
            // Answer once every caller has been refused by the portal, so all are queued.
            while portal.counters().requests < CALLERS {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response()
        })
    })
    .await;
    let client = oauth_client(&portal, config(&endpoint));
    let calls = (0..CALLERS).map(|_| {
        let client = client.clone();
        async move { client.call(&Request::chat_id(1777)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    for result in results {
        let reason = refresh_failure(result);
        assert!(
            matches!(reason, TokenRefreshError::InvalidAnswer { status: 502, .. }),
            "{reason:?}"
        );
    }
    assert_eq!(endpoint.hits(), 1, "one refresh for all queued callers");

    client.call(&Request::chat_id(1777)).await.unwrap();
    assert_eq!(endpoint.hits(), 2, "a new call refreshes again");
    assert_eq!(
        client.oauth_tokens().unwrap().access_token.expose(),
        "new-access-token"
    );
}

/// The caller that started a refresh is dropped while the token endpoint is in the middle of
/// its answer. The refresh goes on without it: the rotated pair is put in use and saved, and
/// the next call uses it without a second refresh (which the spent refresh token would fail).
#[tokio::test]
async fn a_refresh_outlives_the_caller_that_started_it() {
    let portal = portal().await;
    let answering = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (answering_tx, release_rx) = (answering.clone(), release.clone());
    let endpoint = TokenEndpoint::start(move |n, query| {
        if n > 0 {
            // The old refresh token was spent by the first request.
            return reply(spent());
        }
        let (answering, release) = (answering_tx.clone(), release_rx.clone());
        let full = axum::body::to_bytes(new_pair(&query).into_body(), usize::MAX);
        Box::pin(async move {
            let full = full.await.unwrap().to_vec();
            let (head, tail) = full.split_at(full.len() / 2);
            let (head, tail) = (head.to_vec(), tail.to_vec());
            // Headers and half the body now, the rest once the test says so.
            let body = futures_util::stream::unfold(0, move |part| {
                let (head, tail) = (head.clone(), tail.clone());
                let (answering, release) = (answering.clone(), release.clone());
                async move {
                    match part {
                        0 => Some((Ok::<_, std::io::Error>(head), 1)),
                        1 => {
                            answering.notify_one();
                            release.notified().await;
                            Some((Ok(tail), 2))
                        }
                        _ => None,
                    }
                }
            });
            Response::new(axum::body::Body::from_stream(body))
        })
    })
    .await;
    let store = MemoryStore::new();
    let client = oauth_client(&portal, config(&endpoint).with_store(store.clone()));

    let first = tokio::spawn({
        let client = client.clone();
        async move { client.call(&Request::chat_id(1777)).await }
    });
    answering.notified().await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    release.notify_one();

    let dialog = client.call(&Request::chat_id(1777)).await.unwrap();
    assert_eq!(dialog.id, 1777);
    assert_eq!(endpoint.hits(), 1, "no second refresh");
    store.count.subscribe().wait_for(|n| *n > 0).await.unwrap();
    let saved = store.saved();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].access_token.expose(), "new-access-token");
    assert_eq!(saved[0].refresh_token.expose(), "new-refresh-token");
    assert_eq!(client.oauth_tokens().unwrap(), saved[0]);
}

/// A store that takes 20 s to save.
struct SlowStore;

impl TokenStore for SlowStore {
    fn save<'a>(
        &'a self,
        _: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            Ok(())
        })
    }
}

/// A store that hangs is given `store_timeout`: the call reports the unsaved pair as a typed
/// error (the old code waited for the store however long it took), and the new pair is in
/// use all the same.
#[tokio::test]
async fn a_hanging_store_times_out() {
    let portal = portal().await;
    let endpoint =
        TokenEndpoint::start(|n, query| reply(if n == 0 { new_pair(&query) } else { spent() }))
            .await;
    let timeout = Duration::from_millis(100);
    let client = oauth_client(
        &portal,
        config(&endpoint)
            .with_store(Arc::new(SlowStore))
            .with_store_timeout(timeout),
    );
    let reason = refresh_failure(client.call(&Request::chat_id(1777)).await);
    assert!(
        matches!(reason, TokenRefreshError::StoreTimeout { timeout: t } if t == timeout),
        "{reason:?}"
    );
    assert!(reason.tokens_refreshed());
    client.call(&Request::chat_id(1777)).await.unwrap();
    assert_eq!(endpoint.hits(), 1);
}
