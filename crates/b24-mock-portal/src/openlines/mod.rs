//! Custom connectors and the conversations of open lines: what `imconnector.register`,
//! `imconnector.activate` and `imconnector.send.messages` leave on the portal, what an
//! operator writes back, and the events each of them raises (the server's `imconnector`
//! `CustomConnectors` and `imopenlines` `Connector`).

mod payloads;

use serde_json::{Map, Value};

use payloads::{
    client_message_event, connector_send_data, incomplete_answer, operator_line_data,
    received_answer, session_start_event, Incoming, Landed, Sent,
};

use crate::params::{as_text, get_ci, get_text, key_ci, parse_bool, php_intval, php_items};

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

/// A key of an object ignoring case (the server lower-cases the keys of `MESSAGES`); a
/// `null` is no value.
fn key<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    key_ci(v, name).filter(|v| !v.is_null())
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
        let id = get_text(params, "ID").to_lowercase();
        let name = get_text(params, "NAME");
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
        let id = get_text(params, "ID").to_lowercase();
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
        let id = get_text(params, "CONNECTOR").to_lowercase();
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
        let connector = get_text(params, "CONNECTOR").to_lowercase();
        let line = get_ci(params, "LINE").map_or(0, php_intval);
        let messages = get_ci(params, "MESSAGES")
            .and_then(php_items)
            .unwrap_or_default();
        let mut results = Vec::new();
        let mut raise = Vec::new();
        for (_, m) in messages {
            let m = lower_keys(m);
            let Some(incoming) = Incoming::read(&m) else {
                results.push(incomplete_answer());
                continue;
            };
            if let Some((answer, events)) = self.receive_one(line, &connector, &incoming) {
                results.push(answer);
                raise.extend(events);
            }
        }
        let mut data = Map::new();
        data.insert("RESULT".into(), Value::Array(results));
        let mut out = Map::new();
        out.insert("SUCCESS".into(), Value::Bool(true));
        out.insert("DATA".into(), Value::Object(data));
        (Value::Object(out), raise)
    }

    /// The conversation of the line with the external chat `chat`, made (with a chat, a
    /// session and a user for the client) if there is none yet; whether it is new.
    fn open_conversation(&mut self, line: i64, connector: &str, chat: &str, user: &str) -> bool {
        if self.conversation_mut(line, connector, chat).is_some() {
            return false;
        }
        self.next_chat += 1;
        self.next_session += 1;
        self.next_user += 1;
        self.conversations.push(LineConversation {
            line,
            connector: connector.to_string(),
            external_chat_id: chat.to_string(),
            external_user_id: user.to_string(),
            user_id: self.next_user,
            chat_id: self.next_chat,
            session_id: self.next_session,
            messages: Vec::new(),
        });
        true
    }

    /// One client's message: stored in its conversation; its element of the answer and the
    /// events it raises.
    fn receive_one(
        &mut self,
        line: i64,
        connector: &str,
        incoming: &Incoming<'_>,
    ) -> Option<(Value, Vec<Raise>)> {
        let chat_ext = key_text(incoming.chat, "id");
        let new =
            self.open_conversation(line, connector, &chat_ext, &key_text(incoming.user, "id"));
        self.next_message += 1;
        let message_id = self.next_message;
        let conv = self.conversation_mut(line, connector, &chat_ext)?;
        let external_id = key(incoming.message, "id").and_then(as_text);
        let body = key_text(incoming.message, "text");
        conv.messages.push(LineMessage {
            id: message_id,
            from_client: true,
            author_id: conv.user_id,
            external_id: external_id.clone(),
            text: body.clone(),
            delivered: true,
            read: false,
        });
        let landed = Landed {
            connector,
            line,
            chat_ext: &chat_ext,
            user_id: conv.user_id,
            chat_id: conv.chat_id,
            session_id: conv.session_id,
        };
        let answer = received_answer(incoming, &landed, external_id, body);
        let mut raise = Vec::new();
        if new {
            raise.push(session_start_event(&landed));
        }
        raise.push(client_message_event(incoming, &landed));
        Some((answer, raise))
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
        let sent = Sent {
            connector: conv.connector.clone(),
            line,
            chat,
            chat_id: conv.chat_id,
            user_id: conv.user_id,
            operator,
            message_id,
            text,
        };
        let owner = self
            .connectors
            .iter()
            .find(|c| c.id == sent.connector)
            .and_then(|c| c.client_id.clone());
        let mut raise = Vec::new();
        // Only the application that registered the connector gets it
        // (CustomConnectors::OnSendMessageCustom refuses the others).
        if let Some(owner) = owner {
            raise.push((
                "OnImConnectorMessageAdd",
                connector_send_data(&sent),
                Some(owner),
            ));
        }
        raise.push(("OnOpenLineMessageAdd", operator_line_data(&sent), None));
        let chat_id = sent.chat_id;
        Some((
            OperatorMessage {
                chat_id,
                message_id,
            },
            raise,
        ))
    }
}
