//! Transport and auth for Bitrix24 REST calls.
//!
//! [`Client`] sends a generated request (any [`Method`]) to a portal, by incoming webhook
//! (`https://<portal>/rest/<user>/<secret>/`) or by OAuth access token, and decodes the
//! answer into the method's typed result or typed [`Error`]. Secrets never appear in `Debug`,
//! `Display`, logs or errors: the client's `Debug` shows the portal and user only, and
//! transport errors are stripped of their URL.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod secret;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use b24_core::{
    decode_response, ApiError, ApiErrorCode, Envelope, Error, Method, MethodErrorCode, MethodKind,
    PortalErrorCode, Time, TransportPhase, UndocumentedCode,
};
pub use secret::Secret;
use serde_json::{Map, Value};
use url::Url;

/// A configuration mistake, found when the client is built. Never echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL does not parse or lacks parts.
    #[error("invalid {what}: {reason}")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// Why (never contains the URL itself).
        reason: String,
    },
    /// Plain http to a host other than loopback would send the secret in clear text.
    #[error("{what} must use https (plain http is only allowed to loopback hosts)")]
    HttpsRequired {
        /// Which URL.
        what: &'static str,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// How calls authenticate.
#[derive(Clone)]
enum Auth {
    /// `https://<portal>/rest/<user>/<secret>/<method>.json`.
    Webhook { user: String, secret: Secret },
    /// `https://<portal>/rest/<method>.json` with the access token.
    OAuth { access_token: Secret },
}

/// Settings of a [`Client`]; start with [`Client::builder_webhook`] or
/// [`Client::builder_oauth`].
#[must_use]
pub struct ClientBuilder {
    portal: Result<Url, ConfigError>,
    auth: Auth,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    root_certificates: Vec<Vec<u8>>,
    user_agent: String,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("portal", &self.portal.as_ref().map(Url::as_str))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// Default cap on the size of one answer: 32 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

impl ClientBuilder {
    fn new(portal: Result<Url, ConfigError>, auth: Auth) -> Self {
        ClientBuilder {
            portal,
            auth,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_certificates: Vec::new(),
            user_agent: concat!("b24-openlines/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }

    /// Time allowed to connect (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time allowed for a whole call, answer included (default 60 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Largest answer accepted, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Trusts an extra root certificate (PEM), e.g. the local portal's self-signed CA.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, ConfigError> {
        let portal = self.portal?;
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .redirect(reqwest::redirect::Policy::none());
        for pem in &self.root_certificates {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| {
                ConfigError::Http(format!("bad root certificate: {}", e.without_url()))
            })?;
            http = http.add_root_certificate(cert);
        }
        let http = http
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                portal,
                auth: self.auth,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// A connection to one portal. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    portal: Url,
    auth: Auth,
    max_response_bytes: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Client");
        d.field("portal", &self.inner.portal.as_str());
        match &self.inner.auth {
            Auth::Webhook { user, secret } => d.field("webhook_user", user).field("secret", secret),
            Auth::OAuth { access_token } => d.field("access_token", access_token),
        };
        d.finish()
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check_scheme(url: &Url, what: &'static str) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(ConfigError::HttpsRequired { what }),
        _ => Err(ConfigError::InvalidUrl {
            what,
            reason: "the scheme must be https".into(),
        }),
    }
}

/// Splits `https://<portal>/rest/<user>/<secret>/` into the portal root, user and secret.
fn parse_webhook(url: &str) -> Result<(Url, String, Secret), ConfigError> {
    const WHAT: &str = "webhook URL";
    let shape = || ConfigError::InvalidUrl {
        what: WHAT,
        reason: "expected https://<portal>/rest/<user id>/<secret>/".into(),
    };
    let parsed = Url::parse(url.trim()).map_err(|_| shape())?;
    check_scheme(&parsed, WHAT)?;
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let [.., rest, user, secret] = segments.as_slice() else {
        return Err(shape());
    };
    if *rest != "rest" || user.is_empty() || secret.is_empty() {
        return Err(shape());
    }
    let prefix_len = segments.len() - 3;
    let mut portal = parsed.clone();
    portal.set_query(None);
    portal.set_fragment(None);
    let prefix: String = segments[..prefix_len]
        .iter()
        .map(|s| format!("/{s}"))
        .collect();
    portal.set_path(&format!("{prefix}/"));
    Ok((portal, (*user).to_string(), Secret::new(*secret)))
}

fn parse_portal(url: &str) -> Result<Url, ConfigError> {
    const WHAT: &str = "portal URL";
    let mut parsed = Url::parse(url.trim()).map_err(|_| ConfigError::InvalidUrl {
        what: WHAT,
        reason: "expected https://<portal>/".into(),
    })?;
    check_scheme(&parsed, WHAT)?;
    parsed.set_query(None);
    parsed.set_fragment(None);
    if !parsed.path().ends_with('/') {
        let p = format!("{}/", parsed.path());
        parsed.set_path(&p);
    }
    Ok(parsed)
}

impl Client {
    /// A client for an incoming webhook `https://<portal>/rest/<user>/<secret>/`.
    pub fn from_webhook(url: &str) -> Result<Client, ConfigError> {
        Self::builder_webhook(url).build()
    }

    /// A client for an OAuth access token on `portal` (`https://<portal>/`).
    pub fn from_oauth(
        portal: &str,
        access_token: impl Into<String>,
    ) -> Result<Client, ConfigError> {
        Self::builder_oauth(portal, access_token).build()
    }

    /// Settings for a webhook client.
    pub fn builder_webhook(url: &str) -> ClientBuilder {
        match parse_webhook(url) {
            Ok((portal, user, secret)) => {
                ClientBuilder::new(Ok(portal), Auth::Webhook { user, secret })
            }
            Err(e) => ClientBuilder::new(
                Err(e),
                Auth::OAuth {
                    access_token: Secret::new(""),
                },
            ),
        }
    }

    /// Settings for an OAuth client.
    pub fn builder_oauth(portal: &str, access_token: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(
            parse_portal(portal),
            Auth::OAuth {
                access_token: Secret::new(access_token),
            },
        )
    }

    /// The portal root (`https://<portal>/`), without secrets.
    pub fn portal(&self) -> &Url {
        &self.inner.portal
    }

    /// The URL of a method. Contains the webhook secret: never log it.
    fn method_url(&self, method: &str) -> Result<Url, String> {
        let path = match &self.inner.auth {
            Auth::Webhook { user, secret } => {
                format!("rest/{user}/{}/{method}.json", secret.expose())
            }
            Auth::OAuth { .. } => format!("rest/{method}.json"),
        };
        self.inner
            .portal
            .join(&path)
            .map_err(|_| format!("cannot build the URL of `{method}`"))
    }

    /// Calls a generated method and returns its typed result.
    pub async fn call<M: Method>(&self, request: &M) -> Result<M::Output, Error<M::ErrorCode>> {
        self.call_envelope(request).await.map(|e| e.result)
    }

    /// Calls a generated method and returns the whole envelope (`time`, `next`, `total`).
    pub async fn call_envelope<M: Method>(
        &self,
        request: &M,
    ) -> Result<Envelope<M::Output>, Error<M::ErrorCode>> {
        self.send::<M::Output, M::ErrorCode>(M::NAME, request.params())
            .await
    }

    /// Calls any method by name with untyped parameters: the same envelope, errors and
    /// transport as typed calls.
    pub async fn call_raw(
        &self,
        method: &str,
        params: Map<String, Value>,
    ) -> Result<Envelope<Value>, Error> {
        self.send::<Value, UndocumentedCode>(method, params).await
    }

    async fn send<T: b24_core::Lenient, C: MethodErrorCode>(
        &self,
        method: &str,
        mut params: Map<String, Value>,
    ) -> Result<Envelope<T>, Error<C>> {
        let url = self
            .method_url(method)
            .map_err(|message| Error::InvalidRequest {
                method: method.to_string(),
                message,
            })?;
        if let Auth::OAuth { access_token } = &self.inner.auth {
            params.insert(
                "auth".into(),
                Value::String(access_token.expose().to_string()),
            );
        }
        let body = serde_json::to_vec(&params).map_err(|e| Error::InvalidRequest {
            method: method.to_string(),
            message: e.to_string(),
        })?;
        tracing::debug!(method, bytes = body.len(), "calling");
        let transport = |e: reqwest::Error| {
            let phase = if e.is_connect() {
                TransportPhase::Connect
            } else {
                TransportPhase::AfterSend
            };
            Error::Transport {
                method: method.to_string(),
                phase,
                source: Box::new(e.without_url()),
            }
        };
        let mut response = self
            .inner
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let cap = self.inner.max_response_bytes;
        let mut bytes = Vec::with_capacity(
            response
                .content_length()
                .map_or(8 * 1024, |n| (n as usize).min(cap)),
        );
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > cap {
                return Err(Error::UnexpectedResponse {
                    method: method.to_string(),
                    status,
                    content_type: content_type.unwrap_or_else(|| "unknown".into()),
                    excerpt: format!("the answer is larger than the {cap}-byte limit"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        tracing::debug!(method, status, bytes = bytes.len(), "answered");
        decode_response(method, status, content_type.as_deref(), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_split_into_portal_user_and_secret() {
        let (portal, user, secret) =
            parse_webhook("https://example.bitrix24.ru/rest/1/s3cr3tvalue/").unwrap();
        assert_eq!(portal.as_str(), "https://example.bitrix24.ru/");
        assert_eq!(user, "1");
        assert_eq!(secret.expose(), "s3cr3tvalue");
        let (portal, _, _) = parse_webhook("http://127.0.0.1:8080/sub/rest/7/abc").unwrap();
        assert_eq!(portal.as_str(), "http://127.0.0.1:8080/sub/");
    }

    #[test]
    fn bad_webhooks_are_refused_without_echoing_the_secret() {
        for bad in [
            "https://example.bitrix24.ru/rest/1/",
            "https://example.bitrix24.ru/api/1/s3cr3tvalue/",
            "not a url s3cr3tvalue",
            "ftp://example.bitrix24.ru/rest/1/s3cr3tvalue/",
        ] {
            let e = Client::from_webhook(bad).unwrap_err();
            assert!(!e.to_string().contains("s3cr3tvalue"), "{e}");
            assert!(!format!("{e:?}").contains("s3cr3tvalue"), "{e:?}");
        }
        let e = Client::from_webhook("http://example.bitrix24.ru/rest/1/s3cr3tvalue/").unwrap_err();
        assert_eq!(
            e,
            ConfigError::HttpsRequired {
                what: "webhook URL"
            }
        );
        assert!(Client::from_webhook("http://localhost:1/rest/1/x/").is_ok());
        assert!(Client::from_webhook("http://[::1]:1/rest/1/x/").is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Client::from_webhook("https://example.bitrix24.ru/rest/1/s3cr3tvalue/").unwrap();
        let d = format!("{c:?}");
        assert!(
            d.contains("example.bitrix24.ru") && !d.contains("s3cr3tvalue"),
            "{d}"
        );
        let c = Client::from_oauth("https://example.bitrix24.ru", "tok3nvalue").unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("tok3nvalue"), "{d}");
        assert_eq!(
            c.method_url("imopenlines.dialog.get").unwrap().as_str(),
            "https://example.bitrix24.ru/rest/imopenlines.dialog.get.json"
        );
    }
}
