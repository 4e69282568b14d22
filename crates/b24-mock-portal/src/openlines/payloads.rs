//! What the custom connectors' methods answer and the data of the events they raise, as
//! the server builds them (`Input::receivingMessage`, `Rest::OnOpenLineDialogStart`,
//! `Connector::onReceivedMessage`, `Connector::sendMessage`).

use serde_json::{Map, Value};

use super::{key, key_text, Raise};
use crate::params::as_text;

/// The parts of a message of `imconnector.send.messages` (keys lower-cased): all three are
/// required.
pub(super) struct Incoming<'m> {
    pub(super) user: &'m Value,
    pub(super) message: &'m Value,
    pub(super) chat: &'m Value,
}

impl<'m> Incoming<'m> {
    pub(super) fn read(m: &'m Value) -> Option<Incoming<'m>> {
        Some(Incoming {
            user: key(m, "user")?,
            message: key(m, "message")?,
            chat: key(m, "chat")?,
        })
    }
}

/// Where a client's message landed.
pub(super) struct Landed<'a> {
    pub(super) connector: &'a str,
    pub(super) line: i64,
    /// The chat's id in the external channel.
    pub(super) chat_ext: &'a str,
    /// The client's Bitrix24 user, the open-lines chat and its session.
    pub(super) user_id: i64,
    pub(super) chat_id: i64,
    pub(super) session_id: i64,
}

impl Landed<'_> {
    /// The `connector` block of the events (`chat_id` differs between them).
    fn connector_block(&self, chat: Value) -> Value {
        let mut c = Map::new();
        c.insert("connector_id".into(), Value::from(self.connector));
        c.insert("line_id".into(), Value::from(self.line));
        c.insert("chat_id".into(), chat);
        c.insert("user_id".into(), Value::from(self.user_id));
        Value::Object(c)
    }
}

/// The answer's element for a message without `user`, `message` or `chat`.
pub(super) fn incomplete_answer() -> Value {
    let mut r = Map::new();
    r.insert("SUCCESS".into(), Value::Bool(false));
    r.insert(
        "ERRORS".into(),
        Value::Array(vec![Value::from("Переданы не все необходимые данные")]),
    );
    Value::Object(r)
}

/// The answer's element for a received message (Input::receivingMessage, with the newer
/// `session`).
pub(super) fn received_answer(
    incoming: &Incoming<'_>,
    landed: &Landed<'_>,
    external_id: Option<String>,
    body: String,
) -> Value {
    let mut processed = Map::new();
    if let Some(id) = external_id {
        processed.insert("id".into(), Value::from(id));
    }
    processed.insert("date".into(), Value::Object(Map::new()));
    if !body.is_empty() {
        processed.insert("text".into(), Value::from(body));
    }
    processed.insert("files".into(), Value::Array(Vec::new()));
    let mut chat_out = Map::new();
    chat_out.insert("id".into(), Value::from(landed.chat_ext));
    if let Some(n) = key(incoming.chat, "name") {
        chat_out.insert("name".into(), n.clone());
    }
    if let Some(u) = key(incoming.chat, "url").and_then(as_text) {
        chat_out.insert(
            "description".into(),
            Value::from(format!("Ссылка на исходный пост: {u}")),
        );
    }
    let mut session = Map::new();
    session.insert("ID".into(), Value::from(landed.session_id.to_string()));
    session.insert("CHAT_ID".into(), Value::from(landed.chat_id.to_string()));
    // `extra` only when a flag is set (Connectors\Base::processingInputNewAndUpdateMessage).
    let mut extra = Map::new();
    if key_text(incoming.user, "skip_phone_validate") == "Y" {
        extra.insert("skip_phone_validate".into(), Value::from("Y"));
    }
    if key_text(incoming.message, "disable_crm") == "Y" {
        extra.insert("disable_tracker".into(), Value::from("Y"));
    }
    let mut r = Map::new();
    r.insert("user".into(), Value::from(landed.user_id.to_string()));
    r.insert("message".into(), Value::Object(processed));
    r.insert("chat".into(), Value::Object(chat_out));
    if !extra.is_empty() {
        r.insert("extra".into(), Value::Object(extra));
    }
    r.insert("SUCCESS".into(), Value::Bool(true));
    r.insert("session".into(), Value::Object(session));
    Value::Object(r)
}

/// A new chat opens a session: Rest::OnOpenLineDialogStart.
pub(super) fn session_start_event(landed: &Landed<'_>) -> Raise {
    let mut chat_block = Map::new();
    chat_block.insert("chat_id".into(), Value::from(landed.chat_id));
    let mut line_block = Map::new();
    line_block.insert("id".into(), Value::from(landed.line));
    line_block.insert(
        "name".into(),
        Value::from(format!("Open line {}", landed.line)),
    );
    let mut item = Map::new();
    item.insert(
        "connector".into(),
        landed.connector_block(Value::from(landed.chat_id)),
    );
    item.insert("chat".into(), Value::Object(chat_block));
    item.insert("line".into(), Value::Object(line_block));
    let mut data = Map::new();
    data.insert("DATA".into(), Value::Object(item));
    ("OnSessionStart", Value::Object(data), None)
}

/// A client's message came in: Connector::onReceivedMessage -> processReceivedEntity.
pub(super) fn client_message_event(incoming: &Incoming<'_>, landed: &Landed<'_>) -> Raise {
    let mut msg = match incoming.message {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    msg.insert("user_id".into(), Value::from(landed.user_id));
    let mut item = Map::new();
    item.insert(
        "connector".into(),
        landed.connector_block(Value::from(landed.chat_ext)),
    );
    item.insert("chat".into(), incoming.chat.clone());
    item.insert("message".into(), Value::Object(msg));
    item.insert("ref".into(), Value::Array(Vec::new()));
    item.insert("extra".into(), Value::Array(Vec::new()));
    let mut data = Map::new();
    data.insert("DATA".into(), Value::Object(item));
    ("OnOpenLineMessageAdd", Value::Object(data), None)
}

/// An operator's message sent out to the external chat `chat`.
pub(super) struct Sent<'a> {
    pub(super) connector: String,
    pub(super) line: i64,
    pub(super) chat: &'a str,
    /// The open-lines chat and the client's Bitrix24 user.
    pub(super) chat_id: i64,
    pub(super) user_id: i64,
    pub(super) operator: i64,
    pub(super) message_id: i64,
    pub(super) text: &'a str,
}

/// `data` of `OnImConnectorMessageAdd`: the message for the connector to deliver.
pub(super) fn connector_send_data(sent: &Sent<'_>) -> Value {
    let mut im = Map::new();
    im.insert("chat_id".into(), Value::from(sent.chat_id));
    im.insert("message_id".into(), Value::from(sent.message_id));
    let mut message = Map::new();
    message.insert("user_id".into(), Value::from(sent.operator));
    message.insert("text".into(), Value::from(sent.text));
    message.insert("files".into(), Value::Array(Vec::new()));
    message.insert("attachments".into(), Value::Array(Vec::new()));
    message.insert("params".into(), Value::Array(Vec::new()));
    let mut chat_block = Map::new();
    chat_block.insert("id".into(), Value::from(sent.chat));
    let mut item = Map::new();
    item.insert("im".into(), Value::Object(im));
    item.insert("message".into(), Value::Object(message));
    item.insert("chat".into(), Value::Object(chat_block));
    let mut data = Map::new();
    data.insert("CONNECTOR".into(), Value::from(sent.connector.clone()));
    data.insert("LINE".into(), Value::from(sent.line));
    data.insert("MESSAGES".into(), Value::Array(vec![Value::Object(item)]));
    Value::Object(data)
}

/// `data` of `OnOpenLineMessageAdd` for an operator's message.
pub(super) fn operator_line_data(sent: &Sent<'_>) -> Value {
    let mut conn = Map::new();
    conn.insert("connector_id".into(), Value::from(sent.connector.clone()));
    conn.insert("line_id".into(), Value::from(sent.line));
    conn.insert("user_id".into(), Value::from(sent.user_id));
    conn.insert("chat_id".into(), Value::from(sent.chat));
    let mut msg = Map::new();
    msg.insert("id".into(), Value::from(sent.message_id));
    msg.insert("chat_id".into(), Value::from(sent.chat_id));
    msg.insert("user_id".into(), Value::from(sent.operator));
    msg.insert("text".into(), Value::from(sent.text));
    msg.insert("files".into(), Value::Array(Vec::new()));
    msg.insert("attachments".into(), Value::Array(Vec::new()));
    msg.insert("params".into(), Value::Array(Vec::new()));
    msg.insert("system".into(), Value::from("N"));
    let mut item = Map::new();
    item.insert("connector".into(), Value::Object(conn));
    item.insert("message".into(), Value::Object(msg));
    item.insert("no_session".into(), Value::from("N"));
    let mut data = Map::new();
    data.insert("CONNECTOR".into(), Value::from(sent.connector.clone()));
    data.insert("LINE".into(), Value::from(sent.line));
    data.insert("DATA".into(), Value::Object(item));
    Value::Object(data)
}
