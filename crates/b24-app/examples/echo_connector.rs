//! An open-lines connector that answers every operator message back into its channel.
//!
//! ```sh
//! cargo run -p b24-app --example echo_connector
//! ```
//!
//! With no settings it starts the embedded local portal, installs itself there, registers the
//! connector `echo` (`imconnector.register`), activates it on line 1 (`imconnector.activate`),
//! binds `OnImConnectorMessageAdd` at install, delivers a client's message into the open line,
//! then has an operator answer three times: each answer reaches the connector, which marks it
//! delivered (`imconnector.send.status.delivery`) and sends it back into the open line
//! (`imconnector.send.messages`). It prints the conversation as it goes, and as the portal
//! keeps it at the end.
//!
//! Against a real portal, set the application's credentials and its public address:
//!
//! ```sh
//! B24_CLIENT_ID=app.xxxx B24_CLIENT_SECRET=... B24_PUBLIC_URL=https://echo.example.com/b24 \
//!   B24_LISTEN=0.0.0.0:8080 B24_DB=echo.db B24_LINE=1 cargo run -p b24-app --example echo_connector
//! ```
//!
//! and give the portal `$B24_PUBLIC_URL/install` as the application's install handler. It
//! serves `/b24/install` and `/b24/events`; every portal that installs it gets the connector.
//! `B24_OFFLINE=1` also binds the offline queue and polls it.

use std::sync::Arc;

use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, EventContext, HandlerError, Installation, OfflineConfig, SqliteStore};
use b24_openlines::imconnector::{activate, register, send_messages, send_status_delivery};
use b24_openlines::Client;
use tokio::sync::mpsc;

/// The connector's code.
const CONNECTOR: &str = "echo";
/// A one-colour icon (SVG as a data URL).
const ICON: &str = "data:image/svg+xml;charset=US-ASCII,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20viewBox%3D%220%200%2070%2071%22%3E%3Ccircle%20cx%3D%2235%22%20cy%3D%2235%22%20r%3D%2230%22%2F%3E%3C%2Fsvg%3E";

/// Registers the connector and activates it on `line` (run at every install).
async fn set_up(
    installation: Installation,
    client: Client,
    line: i64,
    placement: String,
) -> Result<(), HandlerError> {
    client
        .call(&register::Request::new(
            CONNECTOR,
            "Echo",
            register::Icon::new(ICON),
            placement,
        ))
        .await?;
    client
        .call(&activate::Request::new(CONNECTOR, line, "1"))
        .await?;
    println!(
        "[{}] connector `{CONNECTOR}` registered and active on line {line}",
        installation.domain
    );
    Ok(())
}

/// Answers an operator's messages back into the channel.
async fn echo(
    e: OnImConnectorMessageAdd,
    ctx: EventContext,
    replies: Option<mpsc::UnboundedSender<String>>,
) -> Result<(), HandlerError> {
    for m in &e.data.messages {
        let text = &m.message.text;
        println!("[{}] operator -> {}: {text}", ctx.domain(), m.chat.id);
        let answer = format!("echo: {text}");
        let message = send_messages::Messages::new()
            .user(send_messages::User::new(m.chat.id.clone()).name("Echo"))
            .chat(send_messages::Chat::new(m.chat.id.clone()))
            .message(send_messages::Message::new().text(answer.clone()));
        ctx.client()
            .call(&send_messages::Request::new(
                e.data.connector.clone(),
                e.data.line,
                vec![message],
            ))
            .await?;
        // The operator's message reached the channel.
        let delivered = send_status_delivery::Messages::new()
            .im(send_status_delivery::Im::new()
                .chat_id(m.im.chat_id)
                .message_id(m.im.message_id))
            .chat(send_status_delivery::Chat::new().id(m.chat.id.clone()));
        ctx.client()
            .call(&send_status_delivery::Request::new(
                e.data.connector.clone(),
                e.data.line,
                vec![delivered],
            ))
            .await?;
        println!("[{}] {} -> open line: {answer}", ctx.domain(), m.chat.id);
        if let Some(tx) = &replies {
            let _ = tx.send(answer);
        }
    }
    Ok(())
}

fn builder(
    client_id: &str,
    secret: &str,
    store: Arc<SqliteStore>,
    public: &str,
    line: i64,
    replies: Option<mpsc::UnboundedSender<String>>,
) -> Result<b24_app::AppBuilder, Box<dyn std::error::Error>> {
    let placement = format!("{public}/settings");
    Ok(App::builder(client_id, secret)
        .store(store)
        .events_url(format!("{public}/events").parse()?)
        .on_install(move |i, c| set_up(i, c, line, placement.clone()))
        .on(move |e: OnImConnectorMessageAdd, ctx| echo(e, ctx, replies.clone())))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match (
        std::env::var("B24_CLIENT_ID"),
        std::env::var("B24_CLIENT_SECRET"),
        std::env::var("B24_PUBLIC_URL"),
    ) {
        (Ok(id), Ok(secret), Ok(public)) => real(&id, &secret, public.trim_end_matches('/')).await,
        _ => local().await,
    }
}

/// Serves real portals.
async fn real(id: &str, secret: &str, public: &str) -> Result<(), Box<dyn std::error::Error>> {
    let db = std::env::var("B24_DB").unwrap_or_else(|_| "echo_connector.db".into());
    let listen = std::env::var("B24_LISTEN").unwrap_or_else(|_| "0.0.0.0:8080".into());
    let line = std::env::var("B24_LINE")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(1);
    let offline = std::env::var("B24_OFFLINE").is_ok_and(|v| v == "1");
    let store = Arc::new(SqliteStore::open(&db).await?);
    let app = builder(id, secret, store, public, line, None)?
        .offline_events(offline)
        .build()?;
    let router = axum::Router::new().nest("/b24", app.router());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("serving {public}/install and {public}/events on {listen}; store {db}");
    let server = axum::serve(listener, router);
    if offline {
        let consumer = app.offline_consumer(OfflineConfig::default());
        tokio::select! {
            r = server => r?,
            () = consumer.run(std::future::pending()) => {}
        }
    } else {
        server.await?;
    }
    Ok(())
}

/// Runs the whole conversation against the embedded local portal.
async fn local() -> Result<(), Box<dyn std::error::Error>> {
    use b24_mock_portal::{MockPortal, OAuthApp, PortalConfig};
    const ID: &str = "local.echo0connector.00000001";
    const SECRET: &str = "echo-connector-local-secret-0123456789";

    let portal =
        MockPortal::start(PortalConfig::default().with_app(OAuthApp::new(ID, SECRET))).await?;
    println!(
        "local portal {} (member_id {})",
        portal.base_url(),
        portal.member_id()
    );
    let dir = std::env::temp_dir().join(format!("b24-echo-connector-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(SqliteStore::open(dir.join("app.db")).await?);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let public = format!("http://{}/b24", listener.local_addr()?);
    let (tx, mut replies) = mpsc::unbounded_channel();
    let app = builder(ID, SECRET, store, &public, 1, Some(tx))?
        .oauth_server(portal.server_endpoint(), portal.token_endpoint().parse()?)
        .build()?;
    let router = axum::Router::new().nest("/b24", app.router());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    // The portal installs the application: its ONAPPINSTALL reaches /b24/install.
    let installed = portal.install_app(ID, &format!("{public}/install")).await?;
    if installed.handler != Ok(200) {
        return Err(format!("the install handler answered {:?}", installed.handler).into());
    }

    // A client writes in the external channel; the connector delivers it to the open line.
    let member_id = portal.member_id().to_string();
    let first = send_messages::Messages::new()
        .user(send_messages::User::new("client-42").name("Alex"))
        .chat(send_messages::Chat::new("client-42"))
        .message(
            send_messages::Message::new()
                .id("ext-1")
                .text("Hi, where is my order?"),
        );
    app.client(&member_id)
        .await?
        .call(&send_messages::Request::new(CONNECTOR, 1, vec![first]))
        .await?;
    println!(
        "[{}] client-42 -> open line: Hi, where is my order?",
        portal.domain()
    );

    // Operators answer; the portal sends each answer to the connector, which echoes it.
    for text in [
        "Hello! Let me check.",
        "It ships tomorrow.",
        "Anything else?",
    ] {
        portal.operator_message(1, "client-42", text)?;
        let Some(_) =
            tokio::time::timeout(std::time::Duration::from_secs(30), replies.recv()).await?
        else {
            return Err("the connector stopped".into());
        };
    }

    println!("\nthe conversation as the portal keeps it:");
    for conversation in portal.conversations(Some(1)) {
        for m in conversation.messages {
            let who = if m.from_client {
                "client  "
            } else {
                "operator"
            };
            let mark = if !m.from_client && m.delivered {
                " (delivered)"
            } else {
                ""
            };
            println!("  {who} {}{mark}", m.text);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
