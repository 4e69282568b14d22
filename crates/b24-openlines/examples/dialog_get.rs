//! Reads open-lines dialogs and prints them.
//!
//! With `B24_WEBHOOK_URL=https://<portal>/rest/<user>/<secret>/` it talks to that portal;
//! without it, it starts the embedded local portal (`b24-mock-portal`) and talks to that.
//!
//! `cargo run -p b24-openlines --example dialog_get [CHAT_ID]`

use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::{Client, Error};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let chat_id: i64 = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1777".into())
        .parse()?;
    // Keep the local portal alive for the whole run.
    let mut _portal = None;
    let client = match std::env::var("B24_WEBHOOK_URL") {
        Ok(url) => {
            println!("portal: {}", url.split("/rest/").next().unwrap_or("?"));
            Client::from_webhook(&url)?
        }
        Err(_) => {
            let portal =
                b24_mock_portal::MockPortal::start(b24_mock_portal::PortalConfig::default())
                    .await?;
            println!(
                "portal: embedded local portal at {} (set B24_WEBHOOK_URL for a real one)",
                portal.base_url()
            );
            let client = Client::from_webhook(&portal.webhook_url())?;
            _portal = Some(portal);
            client
        }
    };
    for request in [
        Request::chat_id(chat_id),
        Request::user_code("livechat|1|1373|211"),
        Request::dialog_id("chat999999"),
    ] {
        match client.dialog_get(request.clone()).await {
            Ok(d) => println!(
                "{:?} -> chat {} {:?}: {} messages, created {}, role {:?}",
                request.target,
                d.id,
                d.name,
                d.message_count.unwrap_or(0),
                d.date_create.map_or("?".into(), |t| t.to_rfc3339()),
                d.role
            ),
            Err(e @ Error::Api { .. }) => println!("{:?} -> {e}", request.target),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
