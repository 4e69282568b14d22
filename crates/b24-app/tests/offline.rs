//! The offline consumer end to end: events raised on the portal wait in its queue, reach the
//! typed handlers, and are cleared only once handled; a crash between get and clear loses
//! nothing.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, OfflineConfig, SqliteStore};
use b24_mock_portal::MockPortal;
use b24_openlines::MethodKind;
use common::{operator_message, portal, serve, ID, SECRET};
use serde_json::{json, Value};
use tokio::sync::mpsc;

type Seen = Arc<Mutex<Vec<String>>>;

/// What the handler does with a message.
#[derive(Clone, Copy)]
enum Mode {
    /// Records it.
    Normal,
    /// Records it, then hangs forever on `text` (the process dies there), telling the test.
    HangOn(&'static str),
}

fn app(
    store: Arc<SqliteStore>,
    portal: &MockPortal,
    seen: Seen,
    mode: Mode,
    hung: mpsc::UnboundedSender<()>,
) -> App {
    App::builder(ID, SECRET)
        .store(store)
        .offline_events(true)
        .oauth_server(
            portal.server_endpoint(),
            portal.token_endpoint().parse().unwrap(),
        )
        .on(move |e: OnImConnectorMessageAdd, _ctx| {
            let (seen, hung) = (Arc::clone(&seen), hung.clone());
            async move {
                let text = e
                    .data
                    .messages
                    .first()
                    .map(|m| m.message.text.clone())
                    .unwrap_or_default();
                seen.lock().unwrap().push(text.clone());
                if text == "fail" {
                    return Err(std::io::Error::other("cannot handle this one"));
                }
                if let Mode::HangOn(t) = mode {
                    if text == t {
                        let _ = hung.send(());
                        std::future::pending::<()>().await;
                    }
                }
                Ok(())
            }
        })
        .build()
        .unwrap()
}

/// Installs the app on `portal` through its install route.
async fn install(app: &App, portal: &MockPortal) {
    let base = serve(app.router()).await;
    let installed = portal
        .install_app(ID, &format!("{base}/install"))
        .await
        .unwrap();
    assert_eq!(installed.handler, Ok(200));
}

/// The portal's queue for the app, as `event.offline.list` shows it: (text, error flag).
async fn queue(app: &App, portal: &MockPortal) -> Vec<(String, bool)> {
    let client = app.client(portal.member_id()).await.unwrap();
    let listed = client
        .call_raw("event.offline.list", MethodKind::Read, Default::default())
        .await
        .unwrap()
        .result;
    let rows = match &listed {
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    rows.iter()
        .map(|r| {
            let text = r["EVENT_DATA"]["MESSAGES"][0]["message"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let error = matches!(&r["ERROR"], Value::Number(n) if n.as_i64() == Some(1))
                || r["ERROR"] == json!("1")
                || r["ERROR"] == json!(true);
            (text, error)
        })
        .collect()
}

/// Raises an operator message per text; each reaches the app's offline binding (and, when
/// bound, its ONOFFLINEEVENT signal).
fn raise(portal: &MockPortal, texts: &[&str]) {
    for (i, t) in texts.iter().enumerate() {
        assert!(
            portal.raise_event(
                "OnImConnectorMessageAdd",
                operator_message(1, "c", 100 + i as i64, t)
            ) >= 1
        );
    }
}

#[tokio::test]
async fn a_crash_between_get_and_clear_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let portal = portal().await;
    let seen: Seen = Arc::default();
    let (tx, mut hung) = mpsc::unbounded_channel();
    {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let app = app(
            store,
            &portal,
            Arc::clone(&seen),
            Mode::HangOn("three"),
            tx.clone(),
        );
        install(&app, &portal).await;
        let offline: Vec<_> = portal
            .bindings(ID)
            .into_iter()
            .filter(|b| b.handler.is_none())
            .collect();
        assert_eq!(offline.len(), 1, "{offline:?}");
        raise(&portal, &["one", "two", "three"]);
        assert_eq!(queue(&app, &portal).await.len(), 3);

        // The consumer takes the batch and dies in the third handler: nothing was cleared.
        let consumer = app.offline_consumer(OfflineConfig::default());
        let member = portal.member_id().to_string();
        let task = tokio::spawn(async move { consumer.poll_portal(&member).await });
        hung.recv().await.unwrap();
        task.abort();
        let _ = task.await;
        assert_eq!(*seen.lock().unwrap(), ["one", "two", "three"]);
        assert_eq!(
            queue(&app, &portal).await,
            [
                ("one".into(), false),
                ("two".into(), false),
                ("three".into(), false)
            ]
        );
    }
    // A new process on the same file: the batch comes back, is handled and cleared.
    seen.lock().unwrap().clear();
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let app = app(store, &portal, Arc::clone(&seen), Mode::Normal, tx);
    let consumer = app.offline_consumer(OfflineConfig::default());
    let report = consumer.poll_portal(portal.member_id()).await.unwrap();
    assert_eq!((report.fetched, report.handled, report.failed), (3, 3, 0));
    assert_eq!(*seen.lock().unwrap(), ["one", "two", "three"]);
    assert!(queue(&app, &portal).await.is_empty());
    // Nothing more.
    let report = consumer.poll_portal(portal.member_id()).await.unwrap();
    assert_eq!(report.fetched, 0);

    // New events after the recovery go through in one poll.
    raise(&portal, &["four"]);
    let report = consumer.poll_portal(portal.member_id()).await.unwrap();
    assert_eq!((report.fetched, report.handled), (1, 1));
    assert!(queue(&app, &portal).await.is_empty());
}

#[tokio::test]
async fn a_failed_handler_is_reported_not_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal().await;
    let seen: Seen = Arc::default();
    let (tx, _hung) = mpsc::unbounded_channel();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let app = app(store, &portal, Arc::clone(&seen), Mode::Normal, tx);
    install(&app, &portal).await;
    raise(&portal, &["ok-1", "fail", "ok-2"]);
    let consumer = app.offline_consumer(OfflineConfig::default().with_batch_size(2));
    // Batches of two: ok-1 and fail, then ok-2.
    let first = consumer.poll_portal(portal.member_id()).await.unwrap();
    assert_eq!((first.fetched, first.handled, first.failed), (2, 1, 1));
    let second = consumer.poll_portal(portal.member_id()).await.unwrap();
    assert_eq!((second.fetched, second.handled, second.failed), (1, 1, 0));
    assert_eq!(*seen.lock().unwrap(), ["ok-1", "fail", "ok-2"]);
    // Only the failed one is left, marked as an error, and a plain get does not return it.
    assert_eq!(queue(&app, &portal).await, [("fail".to_string(), true)]);
    assert_eq!(
        consumer
            .poll_portal(portal.member_id())
            .await
            .unwrap()
            .fetched,
        0
    );
}

#[tokio::test]
async fn a_reservation_the_store_never_learnt_of_is_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal().await;
    let seen: Seen = Arc::default();
    let (tx, _hung) = mpsc::unbounded_channel();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let app = app(store, &portal, Arc::clone(&seen), Mode::Normal, tx);
    install(&app, &portal).await;
    raise(&portal, &["a", "b"]);
    // A consumer died right after `event.offline.get` answered, before storing its
    // process_id: the records are reserved under an id nobody knows.
    let client = app.client(portal.member_id()).await.unwrap();
    let params = json!({"clear": 0});
    let Value::Object(params) = params else {
        unreachable!()
    };
    let got = client
        .call_raw("event.offline.get", MethodKind::Read, params)
        .await
        .unwrap()
        .result;
    assert_eq!(got["events"].as_array().map(Vec::len), Some(2));
    // A plain new batch would not return them.
    let consumer = app.offline_consumer(OfflineConfig::default());
    let report = consumer.poll_portal(portal.member_id()).await.unwrap();
    assert_eq!((report.fetched, report.handled), (2, 2));
    assert_eq!(*seen.lock().unwrap(), ["a", "b"]);
    assert!(queue(&app, &portal).await.is_empty());
}

#[tokio::test]
async fn the_portals_signal_wakes_the_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let portal = portal().await;
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let (tx, mut handled) = mpsc::unbounded_channel();
    let (listener, base) = common::reserve().await;
    let app = App::builder(ID, SECRET)
        .store(store)
        .offline_events(true)
        .events_url(format!("{base}/events").parse().unwrap())
        .oauth_server(
            portal.server_endpoint(),
            portal.token_endpoint().parse().unwrap(),
        )
        .on(move |e: OnImConnectorMessageAdd, _ctx| {
            let tx = tx.clone();
            async move {
                let text = e.data.messages.first().map(|m| m.message.text.clone());
                let _ = tx.send(text.unwrap_or_default());
                Ok::<(), std::io::Error>(())
            }
        })
        .build()
        .unwrap();
    common::serve_on(listener, app.router());
    let installed = portal
        .install_app(ID, &format!("{base}/install"))
        .await
        .unwrap();
    assert_eq!(installed.handler, Ok(200));
    // The handler's event goes to the queue only (an online binding too would run the
    // handler twice); the events URL gets the uninstall notice and the queue's signal.
    let mut bound: Vec<(String, Option<String>)> = portal
        .bindings(ID)
        .into_iter()
        .map(|b| (b.event, b.handler))
        .collect();
    bound.sort();
    let url = Some(format!("{base}/events"));
    assert_eq!(
        bound,
        [
            ("ONAPPUNINSTALL".to_string(), url.clone()),
            ("ONIMCONNECTORMESSAGEADD".to_string(), None),
            ("ONOFFLINEEVENT".to_string(), url),
        ]
    );

    // A consumer whose timer would not fire during the test; its first round finds nothing.
    let consumer =
        app.offline_consumer(OfflineConfig::default().with_interval(Duration::from_secs(3600)));
    let task = tokio::spawn(async move { consumer.run(std::future::pending()).await });
    tokio::time::timeout(Duration::from_secs(30), async {
        while portal.counters().executed("event.offline.get") == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the first round runs");

    // New records: the portal posts ONOFFLINEEVENT, the consumer polls at once.
    raise(&portal, &["pushed"]);
    let text = tokio::time::timeout(Duration::from_secs(30), handled.recv())
        .await
        .expect("the signal wakes the consumer");
    assert_eq!(text.as_deref(), Some("pushed"));
    tokio::time::timeout(Duration::from_secs(30), async {
        while !queue(&app, &portal).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the batch is cleared");
    task.abort();
}
