//! Custom connectors and the conversations of open lines: what `imconnector.register`,
//! `imconnector.activate` and `imconnector.send.messages` leave on the portal, what an
//! operator writes back, and the events each of them raises (the server's `imconnector`
//! `CustomConnectors` and `imopenlines` `Connector`).

use serde_json::{Map, Value};

use crate::params::{as_text, get_ci, parse_bool, php_intval, php_items};

/// The user an operator's message comes from when a test does not say (the administrator).
pub const DEFAULT_OPERATOR: i64 = 1;

/// A connector an application registered (`imconnector.register`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredConnector {
    /// Its id, lower case as the portal stores it.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The application that registered it (`None`: registered with a webhook; the real
    /// portal refuses that, this one records it for tests that use the webhook).
    pub client_id: Option<String>,
    /// The lines it is active on (`imconnector.activate` with `ACTIVE=1`).
    pub active_lines: Vec<i64>,
}

/// One message of an open-line conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMessage {
    /// Its id in Bitrix24 (`im.message_id` of the events).
    pub id: i64,
    /// `true`: the client's, delivered by the connector (`imconnector.send.messages`);
    /// `false`: an operator's, sent out to the connector (`OnImConnectorMessageAdd`).
    pub from_client: bool,
    /// Its author: the Bitrix24 user of the client, or the operator.
    pub author_id: i64,
    /// Its id in the external channel (`message.id` the connector sent), for a client's.
    pub external_id: Option<String>,
    /// Its text.
    pub text: String,
    /// The connector confirmed delivering it (`imconnector.send.status.delivery`).
    pub delivered: bool,
    /// The connector reported it read (`imconnector.send.status.reading`).
    pub read: bool,
}

/// A conversation of an open line with one chat of an external channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineConversation {
    /// The open line.
    pub line: i64,
    /// The connector it comes through.
    pub connector: String,
    /// The chat's id in the external channel (`chat.id` the connector sent).
    pub external_chat_id: String,
    /// The client's id in the external channel (`user.id`).
    pub external_user_id: String,
    /// The Bitrix24 user made for the client.
    pub user_id: i64,
    /// The open-lines chat in Bitrix24 (`im.chat_id`).
    pub chat_id: i64,
    /// The session of that chat.
    pub session_id: i64,
    /// Its messages, oldest first.
    pub messages: Vec<LineMessage>,
}

/// What an operator's message became ([`MockPortal::operator_message`](crate::MockPortal::operator_message)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorMessage {
    /// The open-lines chat in Bitrix24.
    pub chat_id: i64,
    /// The message's id in Bitrix24.
    pub message_id: i64,
}

/// An event to raise after a state change: (name, data, only to this application).
pub(crate) type Raise = (&'static str, Value, Option<String>);

/// Connectors, activations and conversations.
#[derive(Debug)]
pub(crate) struct Lines {
    pub(crate) connectors: Vec<RegisteredConnector>,
    pub(crate) conversations: Vec<LineConversation>,
    next_chat: i64,
    next_message: i64,
    next_session: i64,
    next_user: i64,
}

impl Default for Lines {
    fn default() -> Self {
        Lines {
            connectors: Vec::new(),
            conversations: Vec::new(),
            // Far from the seeded chats of `imopenlines.dialog.get`.
            next_chat: 30_000,
            next_message: 900_000,
            next_session: 50_000,
            next_user: 20_000,
        }
    }
}

fn text(params: &Map<String, Value>, name: &str) -> String {
    get_ci(params, name).and_then(as_text).unwrap_or_default()
}

/// A key of an object ignoring case (the server lower-cases the keys of `MESSAGES`).
fn key<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn key_text(v: &Value, name: &str) -> String {
    key(v, name).and_then(as_text).unwrap_or_default()
}

/// An object with the keys of `v` lower-cased, recursively (the server's `Converter`).
fn lower_keys(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.to_lowercase(), lower_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_keys).collect()),
        other => other.clone(),
    }
}

impl Lines {
    /// `imconnector.register` (parameters already validated).
    pub(crate) fn register(&mut self, client_id: Option<&str>, params: &Map<String, Value>) {
        let id = text(params, "ID").to_lowercase();
        let name = text(params, "NAME");
        match self.connectors.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.name = name;
                c.client_id = client_id.map(str::to_string);
            }
            None => self.connectors.push(RegisteredConnector {
                id,
                name,
                client_id: client_id.map(str::to_string),
                active_lines: Vec::new(),
            }),
        }
    }

    /// `imconnector.unregister`: the application's connector `ID` is gone.
    pub(crate) fn unregister(&mut self, client_id: Option<&str>, params: &Map<String, Value>) {
        let id = text(params, "ID").to_lowercase();
        self.connectors
            .retain(|c| !(c.id == id && c.client_id.as_deref() == client_id));
    }

    /// Forgets every connector of an application (its uninstall).
    pub(crate) fn drop_app(&mut self, client_id: &str) {
        self.connectors
            .retain(|c| c.client_id.as_deref() != Some(client_id));
    }

    /// `imconnector.activate`.
    pub(crate) fn activate(&mut self, params: &Map<String, Value>) {
        let id = text(params, "CONNECTOR").to_lowercase();
        let line = get_ci(params, "LINE").map_or(0, php_intval);
        let active = get_ci(params, "ACTIVE")
            .and_then(parse_bool)
            .unwrap_or(false);
        if let Some(c) = self.connectors.iter_mut().find(|c| c.id == id) {
            c.active_lines.retain(|l| *l != line);
            if active {
                c.active_lines.push(line);
            }
        }
    }

    fn conversation_mut(
        &mut self,
        line: i64,
        connector: &str,
        chat: &str,
    ) -> Option<&mut LineConversation> {
        self.conversations
            .iter_mut()
            .find(|c| c.line == line && c.connector == connector && c.external_chat_id == chat)
    }

    /// `imconnector.send.messages` (parameters already validated): each message lands in
    /// its conversation (made on the first one, with a session); answers the server's
    /// `result` and the events to raise.
    pub(crate) fn receive(&mut self, params: &Map<String, Value>) -> (Value, Vec<Raise>) {
        let connector = text(params, "CONNECTOR").to_lowercase();
        let line = get_ci(params, "LINE").map_or(0, php_intval);
        let messages = get_ci(params, "MESSAGES")
            .and_then(php_items)
            .unwrap_or_default();
        let mut results = Vec::new();
        let mut raise = Vec::new();
        for (_, m) in messages {
            let m = lower_keys(m);
            let (Some(user), Some(message), Some(chat)) =
                (key(&m, "user"), key(&m, "message"), key(&m, "chat"))
            else {
                let mut r = Map::new();
                r.insert("SUCCESS".into(), Value::Bool(false));
                r.insert(
                    "ERRORS".into(),
                    Value::Array(vec![Value::from("Переданы не все необходимые данные")]),
                );
                results.push(Value::Object(r));
                continue;
            };
            let chat_id_ext = key_text(chat, "id");
            let user_ext = key_text(user, "id");
            let new = self
                .conversation_mut(line, &connector, &chat_id_ext)
                .is_none();
            if new {
                self.next_chat += 1;
                self.next_session += 1;
                self.next_user += 1;
                self.conversations.push(LineConversation {
                    line,
                    connector: connector.clone(),
                    external_chat_id: chat_id_ext.clone(),
                    external_user_id: user_ext.clone(),
                    user_id: self.next_user,
                    chat_id: self.next_chat,
                    session_id: self.next_session,
                    messages: Vec::new(),
                });
            }
            self.next_message += 1;
            let message_id = self.next_message;
            let Some(conv) = self.conversation_mut(line, &connector, &chat_id_ext) else {
                continue;
            };
            let external_id = key(message, "id").and_then(as_text);
            let body = key_text(message, "text");
            conv.messages.push(LineMessage {
                id: message_id,
                from_client: true,
                author_id: conv.user_id,
                external_id: external_id.clone(),
                text: body.clone(),
                delivered: true,
                read: false,
            });
            let (user_id, chat_id, session_id) = (conv.user_id, conv.chat_id, conv.session_id);
            // The answer's element (Input::receivingMessage, with the newer `session`).
            let mut processed = Map::new();
            if let Some(id) = &external_id {
                processed.insert("id".into(), Value::from(id.clone()));
            }
            processed.insert("date".into(), Value::Object(Map::new()));
            if !body.is_empty() {
                processed.insert("text".into(), Value::from(body.clone()));
            }
            processed.insert("files".into(), Value::Array(Vec::new()));
            let mut chat_out = Map::new();
            chat_out.insert("id".into(), Value::from(chat_id_ext.clone()));
            if let Some(n) = key(chat, "name") {
                chat_out.insert("name".into(), n.clone());
            }
            if let Some(u) = key(chat, "url").and_then(as_text) {
                chat_out.insert(
                    "description".into(),
                    Value::from(format!("Ссылка на исходный пост: {u}")),
                );
            }
            let mut session = Map::new();
            session.insert("ID".into(), Value::from(session_id.to_string()));
            session.insert("CHAT_ID".into(), Value::from(chat_id.to_string()));
            // `extra` only when a flag is set (Connectors\Base::processingInputNewAndUpdateMessage).
            let mut extra = Map::new();
            if key_text(user, "skip_phone_validate") == "Y" {
                extra.insert("skip_phone_validate".into(), Value::from("Y"));
            }
            if key_text(message, "disable_crm") == "Y" {
                extra.insert("disable_tracker".into(), Value::from("Y"));
            }
            let mut r = Map::new();
            r.insert("user".into(), Value::from(user_id.to_string()));
            r.insert("message".into(), Value::Object(processed));
            r.insert("chat".into(), Value::Object(chat_out));
            if !extra.is_empty() {
                r.insert("extra".into(), Value::Object(extra));
            }
            r.insert("SUCCESS".into(), Value::Bool(true));
            r.insert("session".into(), Value::Object(session));
            results.push(Value::Object(r));

            let connector_block = |chat: Value| {
                let mut c = Map::new();
                c.insert("connector_id".into(), Value::from(connector.clone()));
                c.insert("line_id".into(), Value::from(line));
                c.insert("chat_id".into(), chat);
                c.insert("user_id".into(), Value::from(user_id));
                Value::Object(c)
            };
            if new {
                // A new chat opens a session: Rest::OnOpenLineDialogStart.
                let mut chat_block = Map::new();
                chat_block.insert("chat_id".into(), Value::from(chat_id));
                let mut line_block = Map::new();
                line_block.insert("id".into(), Value::from(line));
                line_block.insert("name".into(), Value::from(format!("Open line {line}")));
                let mut item = Map::new();
                item.insert("connector".into(), connector_block(Value::from(chat_id)));
                item.insert("chat".into(), Value::Object(chat_block));
                item.insert("line".into(), Value::Object(line_block));
                let mut data = Map::new();
                data.insert("DATA".into(), Value::Object(item));
                raise.push(("OnSessionStart", Value::Object(data), None));
            }
            // A client's message came in: Connector::onReceivedMessage -> processReceivedEntity.
            let mut msg = match message {
                Value::Object(o) => o.clone(),
                _ => Map::new(),
            };
            msg.insert("user_id".into(), Value::from(user_id));
            let mut item = Map::new();
            item.insert(
                "connector".into(),
                connector_block(Value::from(chat_id_ext.clone())),
            );
            item.insert("chat".into(), chat.clone());
            item.insert("message".into(), Value::Object(msg));
            item.insert("ref".into(), Value::Array(Vec::new()));
            item.insert("extra".into(), Value::Array(Vec::new()));
            let mut data = Map::new();
            data.insert("DATA".into(), Value::Object(item));
            raise.push(("OnOpenLineMessageAdd", Value::Object(data), None));
        }
        let mut data = Map::new();
        data.insert("RESULT".into(), Value::Array(results));
        let mut out = Map::new();
        out.insert("SUCCESS".into(), Value::Bool(true));
        out.insert("DATA".into(), Value::Object(data));
        (Value::Object(out), raise)
    }

    /// `imconnector.send.status.delivery` / `.reading`: marks the messages named by
    /// `im.message_id`.
    pub(crate) fn status(&mut self, params: &Map<String, Value>, reading: bool) {
        let messages = get_ci(params, "MESSAGES")
            .and_then(php_items)
            .unwrap_or_default();
        for (_, m) in messages {
            let Some(id) = key(&lower_keys(m), "im")
                .and_then(|im| key(im, "message_id"))
                .map(php_intval)
            else {
                continue;
            };
            for conv in &mut self.conversations {
                for msg in conv.messages.iter_mut().filter(|x| x.id == id) {
                    if reading {
                        msg.read = true;
                    } else {
                        msg.delivered = true;
                    }
                }
            }
        }
    }

    /// An operator writes `text` in the line's conversation with the external chat `chat`:
    /// the message is stored (not yet delivered) and the events to raise are returned:
    /// `OnImConnectorMessageAdd` to the connector's application, `OnOpenLineMessageAdd` to
    /// every application (Connector::sendMessage).
    pub(crate) fn operator_message(
        &mut self,
        line: i64,
        chat: &str,
        operator: i64,
        text: &str,
    ) -> Option<(OperatorMessage, Vec<Raise>)> {
        self.next_message += 1;
        let message_id = self.next_message;
        let conv = self
            .conversations
            .iter_mut()
            .find(|c| c.line == line && c.external_chat_id == chat)?;
        conv.messages.push(LineMessage {
            id: message_id,
            from_client: false,
            author_id: operator,
            external_id: None,
            text: text.to_string(),
            delivered: false,
            read: false,
        });
        let (connector, chat_id, user_id) = (conv.connector.clone(), conv.chat_id, conv.user_id);
        let owner = self
            .connectors
            .iter()
            .find(|c| c.id == connector)
            .and_then(|c| c.client_id.clone());
        let mut raise = Vec::new();

        let mut im = Map::new();
        im.insert("chat_id".into(), Value::from(chat_id));
        im.insert("message_id".into(), Value::from(message_id));
        let mut message = Map::new();
        message.insert("user_id".into(), Value::from(operator));
        message.insert("text".into(), Value::from(text));
        message.insert("files".into(), Value::Array(Vec::new()));
        message.insert("attachments".into(), Value::Array(Vec::new()));
        message.insert("params".into(), Value::Array(Vec::new()));
        let mut chat_block = Map::new();
        chat_block.insert("id".into(), Value::from(chat));
        let mut item = Map::new();
        item.insert("im".into(), Value::Object(im));
        item.insert("message".into(), Value::Object(message));
        item.insert("chat".into(), Value::Object(chat_block));
        let mut data = Map::new();
        data.insert("CONNECTOR".into(), Value::from(connector.clone()));
        data.insert("LINE".into(), Value::from(line));
        data.insert("MESSAGES".into(), Value::Array(vec![Value::Object(item)]));
        // Only the application that registered the connector gets it
        // (CustomConnectors::OnSendMessageCustom refuses the others).
        if let Some(owner) = owner {
            raise.push(("OnImConnectorMessageAdd", Value::Object(data), Some(owner)));
        }

        let mut conn = Map::new();
        conn.insert("connector_id".into(), Value::from(connector.clone()));
        conn.insert("line_id".into(), Value::from(line));
        conn.insert("user_id".into(), Value::from(user_id));
        conn.insert("chat_id".into(), Value::from(chat));
        let mut msg = Map::new();
        msg.insert("id".into(), Value::from(message_id));
        msg.insert("chat_id".into(), Value::from(chat_id));
        msg.insert("user_id".into(), Value::from(operator));
        msg.insert("text".into(), Value::from(text));
        msg.insert("files".into(), Value::Array(Vec::new()));
        msg.insert("attachments".into(), Value::Array(Vec::new()));
        msg.insert("params".into(), Value::Array(Vec::new()));
        msg.insert("system".into(), Value::from("N"));
        let mut item = Map::new();
        item.insert("connector".into(), Value::Object(conn));
        item.insert("message".into(), Value::Object(msg));
        item.insert("no_session".into(), Value::from("N"));
        let mut data = Map::new();
        data.insert("CONNECTOR".into(), Value::from(connector));
        data.insert("LINE".into(), Value::from(line));
        data.insert("DATA".into(), Value::Object(item));
        raise.push(("OnOpenLineMessageAdd", Value::Object(data), None));
        Some((
            OperatorMessage {
                chat_id,
                message_id,
            },
            raise,
        ))
    }
}
