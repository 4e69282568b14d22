//! No token or secret reaches a log line: an install, a refresh, events genuine and forged,
//! an uninstall, with every log level recorded.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, AppStore, SqliteStore};
use b24_openlines::imopenlines::dialog_get;
use common::{operator_message, portal, post, reserve, serve_on, ID, SECRET};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: every task of the test, the servers included, logs to the captured writer.
#[tokio::test(flavor = "current_thread")]
async fn no_token_in_any_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let a = portal().await;
    let (listener, base) = reserve().await;
    let app = App::builder(ID, SECRET)
        .store(store.clone())
        .events_url(format!("{base}/events").parse().unwrap())
        .oauth_server(a.server_endpoint(), a.token_endpoint().parse().unwrap())
        .on(|_: OnImConnectorMessageAdd, _ctx| async {
            Err::<(), _>(std::io::Error::other("handler failed"))
        })
        .build()
        .unwrap();
    serve_on(listener, app.router());

    let installed = a.install_app(ID, &format!("{base}/install")).await.unwrap();
    assert_eq!(installed.handler, Ok(200));
    let first = store.portal(a.member_id()).await.unwrap().unwrap();
    // A refresh.
    a.expire_access_tokens();
    let client = app.client(a.member_id()).await.unwrap();
    client
        .dialog_get(dialog_get::Request::chat_id(1777))
        .await
        .unwrap();
    let refreshed = store.portal(a.member_id()).await.unwrap().unwrap();
    // A failing handler, a forged event, a replayed install.
    a.raise_event("OnImConnectorMessageAdd", operator_message(1, "c", 1, "x"));
    let done = a.wait_for_deliveries(1).await;
    assert_eq!(done[0].outcome, Ok(500));
    let forged = format!(
        "event=ONIMCONNECTORMESSAGEADD&auth%5Bmember_id%5D={}&auth%5Bapplication_token%5D=forged-token-123",
        a.member_id()
    );
    assert_eq!(post(&format!("{base}/events"), forged).await, 401);
    let replay = format!(
        "event=ONAPPINSTALL&auth%5Bmember_id%5D={}&auth%5Bserver_endpoint%5D={}\
         &auth%5Brefresh_token%5D={}&auth%5Bapplication_token%5D={}",
        a.member_id(),
        url::form_urlencoded::byte_serialize(a.server_endpoint().as_bytes()).collect::<String>(),
        installed.tokens.refresh_token,
        installed.application_token
    );
    assert_eq!(post(&format!("{base}/install"), replay).await, 401);
    a.uninstall_app(ID, true).await.unwrap();

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    assert!(
        logs.contains("application installed") && logs.contains("refreshed OAuth tokens saved"),
        "{logs}"
    );
    assert!(
        logs.contains("refused a forged event") && logs.contains("event handler failed"),
        "{logs}"
    );
    for secret in [
        SECRET.to_string(),
        installed.application_token.clone(),
        installed.tokens.access_token.clone(),
        installed.tokens.refresh_token.clone(),
        first.tokens.access_token.expose().to_string(),
        first.tokens.refresh_token.expose().to_string(),
        refreshed.tokens.access_token.expose().to_string(),
        refreshed.tokens.refresh_token.expose().to_string(),
        "forged-token-123".to_string(),
    ] {
        assert!(!logs.contains(&secret), "a secret in the logs:\n{logs}");
    }
}
