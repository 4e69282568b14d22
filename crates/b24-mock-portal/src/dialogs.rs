//! Stateful `imopenlines.dialog.get` over the seeded chats, with the real server's rules.

use b24_spec::Spec;
use serde_json::{Map, Value};

use crate::config::SeedChat;
use crate::engine::{AuthCtx, Engine, Outcome};
use crate::errors::ApiErr;
use crate::params::{as_text, get_ci, php_intval};
use crate::specs::example_result;

fn access_error(spec: &Spec) -> ApiErr {
    let message = spec
        .errors
        .iter()
        .find(|e| e.code == "ACCESS_ERROR")
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| "You do not have access to the specified dialog".into());
    ApiErr::new(400, "ACCESS_ERROR", &message)
}

/// `DIALOG_ID` as the server reads it: `^(chat|sg|crm)\d+$`, case-insensitive. Only `chat<ID>`
/// names a chat of the data set.
fn chat_id_of_dialog(dialog: &str) -> Option<i64> {
    let lower = dialog.to_ascii_lowercase();
    for prefix in ["chat", "sg", "crm"] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return if prefix == "chat" {
                digits.parse().ok()
            } else {
                None
            };
        }
    }
    None
}

/// The chat one identifier names, as the server reads it.
fn chat_by<'a>(chats: &'a [SeedChat], name: &str, v: &Value) -> Option<&'a SeedChat> {
    match name.to_ascii_uppercase().as_str() {
        "CHAT_ID" => {
            let id = php_intval(v);
            chats.iter().find(|c| c.id == id && id > 0)
        }
        "DIALOG_ID" => {
            let id = chat_id_of_dialog(&as_text(v)?)?;
            chats.iter().find(|c| c.id == id)
        }
        "SESSION_ID" => {
            let id = php_intval(v);
            chats.iter().find(|c| id > 0 && c.session_id == Some(id))
        }
        "USER_CODE" => {
            let code = as_text(v)?;
            let code = code.strip_prefix("imol|").unwrap_or(&code);
            chats
                .iter()
                .find(|c| !code.is_empty() && c.user_code.as_deref() == Some(code))
        }
        _ => None,
    }
}

/// Resolves the dialog: the first identifier of the spec's one-of group that is present
/// wins, even when its value is bad (the spec declares the server's order).
fn resolve<'a>(
    chats: &'a [SeedChat],
    spec: &Spec,
    params: &Map<String, Value>,
) -> Option<&'a SeedChat> {
    let group = spec.one_of.first()?;
    let (name, v) = group
        .params
        .iter()
        .find_map(|name| get_ci(params, name).map(|v| (name, v)))?;
    chat_by(chats, name, v)
}

/// The answer of `imopenlines.dialog.get`.
pub(crate) fn dialog_get(
    engine: &Engine,
    _: &AuthCtx,
    spec: &Spec,
    params: &Map<String, Value>,
) -> Outcome {
    let chat = resolve(&engine.cfg.chats, spec, params)
        .filter(|c| c.lines && c.accessible)
        .ok_or_else(|| access_error(spec))?;
    let mut out = match example_result(spec) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let code = chat.user_code.clone().unwrap_or_default();
    let set = |m: &mut Map<String, Value>, k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    set(&mut out, "id", Value::from(chat.id));
    set(&mut out, "name", Value::from(chat.name.clone()));
    set(&mut out, "owner", Value::from(chat.owner));
    set(&mut out, "entity_id", Value::from(code.clone()));
    let manager_list = if chat.owner > 0 {
        vec![Value::from(chat.owner)]
    } else {
        Vec::new()
    };
    set(&mut out, "manager_list", Value::Array(manager_list));
    if let Some(Value::String(data1)) = out.get("entity_data_1") {
        let mut parts: Vec<String> = data1.split('|').map(str::to_string).collect();
        if parts.len() > 5 {
            parts[5] = chat.session_id.unwrap_or(0).to_string();
        }
        let joined = parts.join("|");
        set(&mut out, "entity_data_1", Value::from(joined));
    }
    if let Some(Value::Object(link)) = out.get_mut("entity_link") {
        if link.contains_key("id") {
            link.insert("id".into(), Value::from(code));
        }
    }
    // `dialog_id` is always the last key.
    out.remove("dialog_id");
    set(
        &mut out,
        "dialog_id",
        Value::from(format!("chat{}", chat.id)),
    );
    Ok((Value::Object(out), None, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which chat a request naming chat 1777 by CHAT_ID and chat 1364 by SESSION_ID reads,
    /// with the spec's one-of order or that order reversed.
    fn winner(reversed: bool) -> Option<i64> {
        let specs = crate::specs::SpecSet::embedded().unwrap();
        let mut spec = (**specs.get("imopenlines.dialog.get").unwrap()).clone();
        if reversed {
            spec.one_of[0].params.reverse();
        }
        let chats = SeedChat::defaults();
        let session = chats.iter().find(|c| c.id == 1364)?.session_id?;
        let params: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"CHAT_ID": 1777, "SESSION_ID": session}))
                .unwrap();
        resolve(&chats, &spec, &params).map(|c| c.id)
    }

    #[test]
    fn the_identifier_order_is_the_specs() {
        assert_eq!(winner(false), Some(1777));
        assert_eq!(winner(true), Some(1364));
    }

    #[test]
    fn dialog_ids() {
        assert_eq!(chat_id_of_dialog("chat1777"), Some(1777));
        assert_eq!(chat_id_of_dialog("CHAT1777"), Some(1777));
        assert_eq!(chat_id_of_dialog("chat"), None);
        assert_eq!(chat_id_of_dialog("chat17x"), None);
        assert_eq!(chat_id_of_dialog("sg12"), None);
        assert_eq!(chat_id_of_dialog("1777"), None);
    }
}
