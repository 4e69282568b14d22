//! How `b24_runtime::Client` uses a [`RateLimiter`] and a [`TokenCoordinator`] given to it:
//! every attempt acquires, a 503 saturates, an attempt that never reached the portal
//! refunds, a limiter error sends nothing; a coordinator's pair is put in use, and only a
//! pair this process exchanged is saved to the application's store. No Redis here.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_core::{Error, LimiterError, MethodKind, Secret, TokenRefreshError};
use b24_mock_portal::{ErrorRule, LimitConfig, MockPortal, OAuthApp, PortalConfig};
use b24_runtime::{
    Client, Exchange, LimiterFuture, OAuthConfig, OAuthTokens, RateLimit, RateLimiter, Refreshed,
    StoreError, TokenCoordinator, TokenFuture, TokenStore,
};
use serde_json::{Map, Value};

#[derive(Debug, Default)]
struct Counting {
    acquired: AtomicUsize,
    refunded: AtomicUsize,
    saturated: AtomicUsize,
    refuse: bool,
}

impl RateLimiter for Counting {
    fn limit(&self) -> RateLimit {
        RateLimit::STANDARD
    }

    fn acquire(&self) -> LimiterFuture<'_, Result<(), LimiterError>> {
        self.acquired.fetch_add(1, Ordering::SeqCst);
        let refuse = self.refuse;
        Box::pin(async move {
            if refuse {
                Err(LimiterError::Timeout {
                    timeout: Duration::from_millis(5),
                })
            } else {
                Ok(())
            }
        })
    }

    fn refund(&self) -> LimiterFuture<'_, ()> {
        self.refunded.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }

    fn saturate(&self) -> LimiterFuture<'_, ()> {
        self.saturated.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }
}

fn dialog_params() -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("CHAT_ID".into(), Value::from(1777));
    params
}

fn counts(l: &Counting) -> (usize, usize, usize) {
    (
        l.acquired.load(Ordering::SeqCst),
        l.refunded.load(Ordering::SeqCst),
        l.saturated.load(Ordering::SeqCst),
    )
}

#[tokio::test]
async fn the_client_acquires_saturates_and_refunds_through_the_trait() {
    let portal = MockPortal::start(PortalConfig::default().with_error_rule(
        ErrorRule::new("imopenlines.dialog.get", "QUERY_LIMIT_EXCEEDED").times(1),
    ))
    .await
    .unwrap();
    let limiter = Arc::new(Counting::default());
    let client = Client::builder_webhook(&portal.webhook_url())
        .limiter(limiter.clone())
        .build()
        .unwrap();
    assert!(client.bucket().is_none(), "no in-process bucket");
    client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();
    // The 503, then the retry: two slots, one saturation.
    assert_eq!(counts(&limiter), (2, 0, 1));

    // Nothing listens: the connection fails, every attempt gives its slot back.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rest/1/secret/", closed.local_addr().unwrap());
    drop(closed);
    let limiter = Arc::new(Counting::default());
    let client = Client::builder_webhook(&url)
        .limiter(limiter.clone())
        .retry(b24_runtime::RetryPolicy {
            max_attempts: 2,
            ..Default::default()
        })
        .build()
        .unwrap();
    assert!(client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .is_err());
    assert_eq!(counts(&limiter), (2, 2, 0));
}

#[tokio::test]
async fn a_limiter_error_sends_nothing() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let limiter = Arc::new(Counting {
        refuse: true,
        ..Counting::default()
    });
    let client = Client::builder_webhook(&portal.webhook_url())
        .limiter(limiter)
        .build()
        .unwrap();
    let got = client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await;
    assert!(
        matches!(
            got,
            Err(Error::RateLimiter {
                source: LimiterError::Timeout { .. },
                ..
            })
        ),
        "{got:?}"
    );
    assert_eq!(portal.counters().requests, 0);
    // In a batch, the commands were provably not run.
    let limiter = Arc::new(Counting {
        refuse: true,
        ..Counting::default()
    });
    let client = Client::builder_webhook(&portal.webhook_url())
        .limiter(limiter)
        .build()
        .unwrap();
    struct Get;
    impl b24_core::Method for Get {
        const NAME: &'static str = "imopenlines.dialog.get";
        const SCOPE: &'static str = "imopenlines";
        const KIND: MethodKind = MethodKind::Read;
        type Output = Value;
        type ErrorCode = b24_core::UndocumentedCode;
        fn params(&self) -> Map<String, Value> {
            dialog_params()
        }
    }
    let results = client.many([Get, Get]).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::NotExecuted { .. }))),
        "{results:?}"
    );
}

const ID: &str = "local.traits000000001.00000001";
const SECRET: &str = "traitsS3cr3ttraitsS3cr3ttraitsS3cr3ttraits00";

/// A coordinator that either hands out a pair it holds or runs the exchange, and says
/// whether the pair reached "the other processes".
struct Scripted {
    found: Option<OAuthTokens>,
    shared_fails: bool,
    refreshes: AtomicUsize,
}

impl TokenCoordinator for Scripted {
    fn current(&self) -> TokenFuture<'_, Result<Option<OAuthTokens>, TokenRefreshError>> {
        Box::pin(async move { Ok(self.found.clone()) })
    }

    fn refresh<'a>(
        &'a self,
        stale: &'a OAuthTokens,
        exchange: Exchange<'a>,
    ) -> TokenFuture<'a, Result<Refreshed, TokenRefreshError>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if let Some(found) = &self.found {
                return Ok(Refreshed::Found(found.clone()));
            }
            let tokens = exchange(stale.refresh_token.clone()).await?;
            let shared = if self.shared_fails {
                Err(TokenRefreshError::Store {
                    source: Arc::new(std::io::Error::other("redis down")),
                })
            } else {
                Ok(())
            };
            Ok(Refreshed::Exchanged { tokens, shared })
        })
    }
}

#[derive(Default)]
struct Saved(Mutex<Vec<OAuthTokens>>);

impl TokenStore for Saved {
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        self.0.lock().unwrap().push(tokens.clone());
        Box::pin(async { Ok(()) })
    }
}

async fn oauth_setup(
    found: bool,
    shared_fails: bool,
) -> (MockPortal, Client, Arc<Scripted>, Arc<Saved>, OAuthTokens) {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, SECRET))
            .with_limits(LimitConfig::unlimited()),
    )
    .await
    .unwrap();
    let stale = portal.issue_tokens(ID).unwrap();
    let newer = portal.issue_tokens(ID).unwrap();
    portal.expire_access_token(&stale.access_token);
    let newer = OAuthTokens {
        access_token: Secret::new(newer.access_token),
        refresh_token: Secret::new(newer.refresh_token),
        expires_at: None,
    };
    let coordinator = Arc::new(Scripted {
        found: found.then(|| newer.clone()),
        shared_fails,
        refreshes: AtomicUsize::new(0),
    });
    let store = Arc::new(Saved::default());
    let config = OAuthConfig::new(ID, SECRET)
        .with_token_endpoint(portal.token_endpoint().parse().unwrap())
        .with_store(store.clone())
        .with_coordinator(coordinator.clone());
    let client = Client::builder_oauth(&portal.base_url(), stale.access_token)
        .rate_limit(None)
        .refresh(stale.refresh_token, config)
        .build()
        .unwrap();
    (portal, client, coordinator, store, newer)
}

#[tokio::test]
async fn a_pair_found_by_the_coordinator_is_used_and_not_saved_again() {
    let (portal, client, coordinator, store, newer) = oauth_setup(true, false).await;
    client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();
    assert_eq!(portal.counters().token_requests, 0);
    assert_eq!(coordinator.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(client.oauth_tokens().unwrap(), newer);
    assert!(store.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_pair_exchanged_here_is_used_and_saved() {
    let (portal, client, _, store, _) = oauth_setup(false, false).await;
    client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();
    assert_eq!(portal.counters().token_requests, 1);
    let saved = store.0.lock().unwrap().clone();
    assert_eq!(saved.len(), 1);
    assert_eq!(Some(&saved[0]), client.oauth_tokens().as_ref());
}

/// The coordinator could not share the new pair: the call reports the store failure, and
/// the client keeps and uses the new pair (the old refresh token is spent).
#[tokio::test]
async fn a_pair_not_shared_is_reported_and_kept() {
    let (portal, client, _, store, _) = oauth_setup(false, true).await;
    let got = client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await;
    assert!(
        matches!(
            &got,
            Err(Error::TokenRefresh {
                reason: TokenRefreshError::Store { .. },
                ..
            })
        ),
        "{got:?}"
    );
    assert_eq!(portal.counters().token_requests, 1);
    let now = client.oauth_tokens().unwrap();
    assert_eq!(
        store.0.lock().unwrap().as_slice(),
        std::slice::from_ref(&now)
    );
    client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();
    assert_eq!(portal.counters().token_requests, 1, "no second exchange");
}
