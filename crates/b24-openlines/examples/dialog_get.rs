//! Reads one open-lines dialog and prints it.
//!
//! `B24_WEBHOOK_URL=https://<portal>/rest/<user>/<secret>/ cargo run -p b24-openlines --example dialog_get [CHAT_ID]`

use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let webhook = std::env::var("B24_WEBHOOK_URL").map_err(|_| {
        "set B24_WEBHOOK_URL to an incoming webhook https://<portal>/rest/<user>/<secret>/"
    })?;
    let chat_id: i64 = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1777".into())
        .parse()?;
    let client = Client::from_webhook(&webhook)?;
    let dialog = client.dialog_get(Request::chat_id(chat_id)).await?;
    println!(
        "chat {} {:?}: {} messages, created {:?}, role {:?}",
        dialog.id,
        dialog.name,
        dialog.message_count.unwrap_or(0),
        dialog.date_create,
        dialog.role
    );
    Ok(())
}
