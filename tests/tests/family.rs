//! Every generated method, called once through its typed client method against the local
//! portal with a request built from the spec's documented example parameters. Each call must
//! succeed and decode to the documented example's `result` (the portal answers with the
//! spec's first 200 example; `dialog.get` fills the seeded chat's values into its example).
//! The `event.*` methods belong to applications: they are called with an application's token
//! and answer the state the calls before them left.

use b24_mock_portal::{MockPortal, PortalConfig};
use b24_openlines::{decode_json, Client, Example, Method};
use serde_json::{json, Value};

/// The documented `result` of a method's first 200 example, decoded by the client's types.
fn documented<T: b24_core::Lenient>(examples: &[Example]) -> T {
    let ex = examples
        .iter()
        .find(|e| e.status == 200)
        .expect("every spec documents a success");
    let body: Value = serde_json::from_str(ex.body).expect("example bodies are JSON");
    let result = serde_json::to_vec(&body["result"]).expect("a JSON value serialises");
    decode_json(&result).expect("the documented result decodes (cargo xtask check)")
}

/// A request object built from the docs' example value.
fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("the documented parameter object decodes")
}

macro_rules! call {
    ($client:ident, $called:ident, $ns:ident :: $op:ident, $method:ident, $req:expr) => {{
        use b24_openlines::$ns::$op as m;
        let req: m::Request = $req;
        let got = $client
            .$method(req)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", <m::Request as Method>::NAME));
        let want: m::Response = documented(m::EXAMPLES);
        assert_eq!(got, want, "{}", <m::Request as Method>::NAME);
        $called.push(<m::Request as Method>::NAME);
    }};
}

/// The application whose token calls `event.*`.
const APP: &str = "local.family.test";

#[tokio::test]
async fn every_method_is_callable_and_answers_its_documented_result() {
    // 57 calls in a row: more than the portal's burst of 50.
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_limits(b24_mock_portal::LimitConfig::unlimited())
            .with_app(b24_mock_portal::OAuthApp::new(APP, "app-secret")),
    )
    .await
    .expect("the local portal starts");
    let client: Client = b24_runtime::Client::builder_webhook(&portal.webhook_url())
        .retry(b24_runtime::RetryPolicy::none())
        .rate_limit(None)
        .build()
        .expect("a webhook client")
        .into();
    let c = &client;
    let mut called: Vec<&str> = Vec::new();

    // event.*: methods of an application (a webhook gets WRONG_AUTH_TYPE), called with its
    // token; the portal keeps their state, so each answer is the state the calls before it
    // left (the documented answers are other portals' states).
    let pair = portal.issue_tokens(APP).expect("the configured app");
    let app: Client = b24_runtime::Client::builder_oauth(&portal.base_url(), pair.access_token)
        .retry(b24_runtime::RetryPolicy::none())
        .rate_limit(None)
        .build()
        .expect("an OAuth client")
        .into();
    {
        use b24_openlines::event::{
            bind, get, offline_clear, offline_error, offline_get, offline_list, unbind,
        };
        let url = "https://www.my-domain.ru/handler/";
        assert!(app
            .event_bind(bind::Request::new("ONAPPTEST").handler(url))
            .await
            .expect("event.bind"));
        let listed = app.event_get(get::Request::new()).await.expect("event.get");
        assert_eq!((listed.len(), listed[0].handler.as_deref()), (1, Some(url)));
        let gone = app
            .event_unbind(unbind::Request::new("ONAPPTEST").handler(url))
            .await
            .expect("event.unbind");
        assert_eq!(gone.count, 1);
        let batch = app
            .event_offline_get(offline_get::Request::new())
            .await
            .expect("event.offline.get");
        assert_eq!((batch.process_id, batch.events.len()), (None, 0));
        assert!(app
            .event_offline_clear(offline_clear::Request::new(
                "yh3gu929sf0d32lsfysqas2y1hlpp09q"
            ))
            .await
            .expect("event.offline.clear"));
        assert!(app
            .event_offline_error(offline_error::Request::new(
                "yh3gu929sf0d32lsfysqas2y1hlpp09q",
                vec!["0123456789abcdef0123456789abcdef".to_string()]
            ))
            .await
            .expect("event.offline.error"));
        let queue = app
            .event_offline_list(offline_list::Request::new())
            .await
            .expect("event.offline.list");
        assert!(queue.is_empty());
        called.extend([
            "event.bind",
            "event.get",
            "event.unbind",
            "event.offline.get",
            "event.offline.clear",
            "event.offline.error",
            "event.offline.list",
        ]);
    }

    // imconnector.*: register, unregister, send/update/delete.messages and
    // send.status.* are an application's too (WRONG_AUTH_TYPE for a webhook).
    let a = &app;
    call!(
        c,
        called,
        imconnector::activate,
        imconnector_activate,
        m::Request::new("myconnector", 107, "1")
    );
    call!(
        c,
        called,
        imconnector::chat_name_set,
        imconnector_chat_name_set,
        m::Request::new(
            "connector",
            105,
            "47e007b1-ee15-43db-bcba-1c26e5884d3f",
            "Новое имя диалога"
        )
    );
    call!(
        c,
        called,
        imconnector::connector_data_set,
        imconnector_connector_data_set,
        m::Request::new(
            "myconnector",
            107,
            obj::<m::Data>(
                json!({"ID": "channel-123", "URL": "https://example.ru/chats/123", "NAME": "Канал поддержки"})
            )
        )
    );
    call!(
        a,
        called,
        imconnector::delete_messages,
        imconnector_delete_messages,
        m::Request::new(
            "myconnector",
            107,
            vec![obj::<m::Messages>(
                json!({"user": {"id": "ext-user-42"}, "message": {"id": "ext-msg-1001"}, "chat": {"id": "channel-123"}})
            )]
        )
    );
    call!(
        c,
        called,
        imconnector::list,
        imconnector_list,
        m::Request::new()
    );
    call!(a, called, imconnector::register, imconnector_register,
        m::Request::new(
            "myconnector",
            "Мой коннектор",
            obj::<m::Icon>(json!({"DATA_IMAGE": "data:image/svg+xml,%3Csvg%20xmlns%3D%22http://www.w3.org/2000/svg%22/%3E", "COLOR": "#69acc0", "SIZE": "90%", "POSITION": "center"})),
            "https://example.com/connector/settings",
        )
        .icon_disabled(obj::<m::IconDisabled>(json!({"DATA_IMAGE": "data:image/svg+xml,%3Csvg%20xmlns%3D%22http://www.w3.org/2000/svg%22/%3E", "COLOR": "#99adb3"})))
        .del_external_messages(true)
        .edit_internal_messages(true)
        .del_internal_messages(true)
        .newsletter(true)
        .need_system_messages(true)
        .need_signature(true)
        .chat_group(false));
    {
        // Stateful on the portal: the message lands in a new conversation of line 107, whose
        // chat, session and client user the portal numbers itself.
        use b24_openlines::imconnector::send_messages as m;
        let got = a
            .imconnector_send_messages(m::Request::new(
                "myconnector",
                107,
                vec![obj::<m::Messages>(json!({
                "user": {"id": "ext-user-42", "last_name": "Иванов", "name": "Иван", "picture": {"url": "https://example.ru/u42.png"}, "url": "https://example.ru/users/42", "gender": "male", "email": "ivan@example.ru", "phone": "+79990000000", "skip_phone_validate": "Y"},
                "message": {"id": "ext-msg-1001", "date": 1773265993, "text": "Добрый день", "files": [{"url": "https://example.ru/files/spec.pdf", "name": "spec.pdf"}], "disable_crm": "Y"},
                "chat": {"id": "channel-123", "name": "Канал поддержки", "url": "https://example.ru/chats/123"}}))],
            ))
            .await
            .expect("imconnector.send.messages");
        let mut want: m::Response = documented(m::EXAMPLES);
        let conversation = &portal.conversations(Some(107))[0];
        let item = &mut want.data.result[0];
        item.user = Some(conversation.user_id.to_string());
        if let Some(session) = item.session.as_mut() {
            session.id = conversation.session_id.to_string();
            session.chat_id = conversation.chat_id.to_string();
        }
        assert_eq!(got, want, "imconnector.send.messages");
        called.push("imconnector.send.messages");
    }
    call!(
        a,
        called,
        imconnector::send_status_delivery,
        imconnector_send_status_delivery,
        m::Request::new(
            "myconnector",
            107,
            vec![obj::<m::Messages>(
                json!({"im": {"chat_id": 323, "message_id": 85911}, "message": {"id": ["ext-msg-1007"], "date": 1738065600}, "chat": {"id": "channel-123"}})
            )]
        )
    );
    call!(
        a,
        called,
        imconnector::send_status_reading,
        imconnector_send_status_reading,
        m::Request::new(
            "myconnector",
            107,
            vec![obj::<m::Messages>(
                json!({"im": {"chat_id": 323, "message_id": 85911}, "message": {"id": ["ext-msg-1007"]}, "chat": {"id": "channel-123"}})
            )]
        )
    );
    call!(
        c,
        called,
        imconnector::status,
        imconnector_status,
        m::Request::new("myconnector").line(12)
    );
    call!(
        a,
        called,
        imconnector::unregister,
        imconnector_unregister,
        m::Request::new("myconnector")
    );
    call!(
        a,
        called,
        imconnector::update_messages,
        imconnector_update_messages,
        m::Request::new(
            "myconnector",
            107,
            vec![obj::<m::Messages>(json!({
            "user": {"id": "ext-user-42", "last_name": "Иванов", "name": "Иван", "picture": {"url": "https://example.ru/u42.png"}, "url": "https://example.ru/users/42", "gender": "male", "email": "ivan@example.ru", "phone": "+79990000000"},
            "message": {"id": "ext-msg-1001", "date": 1773266050, "text": "Добрый день, уточнили детали"},
            "chat": {"id": "channel-123", "name": "Канал поддержки", "url": "https://example.ru/chats/123"}}))]
        )
    );

    // imopenlines.bot.*
    call!(
        c,
        called,
        imopenlines::bot_session_finish,
        bot_session_finish,
        m::Request::new(112).client_id("**put_your_client_id_or_bot_token_here**")
    );
    call!(
        c,
        called,
        imopenlines::bot_session_message_send,
        bot_session_message_send,
        m::Request::new(112)
            .name("DEFAULT")
            .message("Здравствуйте! Чем могу помочь?")
    );
    call!(
        c,
        called,
        imopenlines::bot_session_operator,
        bot_session_operator,
        m::Request::new(112)
    );
    call!(
        c,
        called,
        imopenlines::bot_session_transfer,
        bot_session_transfer,
        m::Request::new(112)
            .user_id(12)
            .leave(false)
            .client_id("**put_your_client_id_or_bot_token_here**")
    );

    // imopenlines.config.*
    call!(c, called, imopenlines::config_add, config_add,
        m::Request::new().params(obj::<m::Params>(json!({
            "LINE_NAME": "Линия поддержки интернет-магазина",
            "QUEUE": [{"ENTITY_TYPE": "user", "ENTITY_ID": "1"}, {"ENTITY_TYPE": "user", "ENTITY_ID": "15"}],
            "QUEUE_TYPE": "strictly", "QUEUE_TIME": 45, "NO_ANSWER_TIME": 120,
            "WELCOME_MESSAGE": "Y", "WELCOME_MESSAGE_TEXT": "Здравствуйте! Ответим в течение пары минут",
            "CRM": "Y", "CRM_CREATE": "deal", "CRM_FORWARD": "Y",
            "WORKTIME_ENABLE": "Y", "WORKTIME_FROM": "09:00", "WORKTIME_TO": "21:00",
            "WORKTIME_TIMEZONE": "Europe/Kaliningrad", "WORKTIME_DAYOFF": ["SA", "SU"]}))));
    call!(
        c,
        called,
        imopenlines::config_delete,
        config_delete,
        m::Request::new(15)
    );
    call!(
        c,
        called,
        imopenlines::config_get,
        config_get,
        m::Request::new(15).with_queue("Y").show_offline("Y")
    );
    call!(c, called, imopenlines::config_list_get, config_list_get,
        m::Request::new()
            .params(obj::<m::Params>(json!({"select": ["ID", "LINE_NAME", "ACTIVE"], "order": {"ID": "ASC"}, "filter": {"ACTIVE": "Y"}, "limit": 50, "offset": 0})))
            .options(obj::<m::Options>(json!({"QUEUE": "Y", "CONFIG_QUEUE": "Y"}))));
    call!(
        c,
        called,
        imopenlines::config_path_get,
        config_path_get,
        m::Request::new()
    );
    call!(
        c,
        called,
        imopenlines::config_update,
        config_update,
        m::Request::new(15).params(obj::<serde_json::Map<String, Value>>(
            json!({"LINE_NAME": "Линия поддержки интернет-магазина (VIP)", "QUEUE_TIME": 45})
        ))
    );

    // imopenlines.crm.*
    call!(
        c,
        called,
        imopenlines::crm_chat_get,
        crm_chat_get,
        m::Request::new("lead", 1205).active_only("N")
    );
    call!(
        c,
        called,
        imopenlines::crm_chat_get_last_id,
        crm_chat_get_last_id,
        m::Request::new("lead", 1205)
    );
    call!(
        c,
        called,
        imopenlines::crm_chat_user_add,
        crm_chat_user_add,
        m::Request::new("lead", 1205, 503).chat_id(1763)
    );
    call!(
        c,
        called,
        imopenlines::crm_chat_user_delete,
        crm_chat_user_delete,
        m::Request::new("lead", 1205, 503).chat_id(1763)
    );
    call!(
        c,
        called,
        imopenlines::crm_lead_create,
        crm_lead_create,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::crm_message_add,
        crm_message_add,
        m::Request::new("lead", 1195, 27, 1341, "Текст сообщения")
    );

    // imopenlines.dialog / message / network
    {
        // Stateful on the portal: the documented example with the seeded chat's values.
        use b24_openlines::imopenlines::dialog_get as m;
        let got = c
            .dialog_get(m::Request::user_code("livechat|1|1373|211"))
            .await
            .unwrap_or_else(|e| panic!("imopenlines.dialog.get: {e}"));
        let want: m::Response = documented(m::EXAMPLES);
        assert_eq!(
            (got.id, &got.name, got.owner),
            (want.id, &want.name, want.owner)
        );
        assert_eq!(got.entity_id, "livechat|1|1373|211");
        assert!(
            got.entity_data_1.contains("|1743|"),
            "{}",
            got.entity_data_1
        );
        assert_eq!(got.dialog_id.as_deref(), Some("chat1777"));
        assert_eq!(got.manager_list, want.manager_list);
        called.push(<m::Request as Method>::NAME);
    }
    call!(
        c,
        called,
        imopenlines::message_quick_save,
        message_quick_save,
        m::Request::new(1331, 83507)
    );
    call!(
        c,
        called,
        imopenlines::message_session_start,
        message_session_start,
        m::Request::new(2043, 18971)
    );
    call!(
        c,
        called,
        imopenlines::network_join,
        network_join,
        m::Request::new("ab515f5d85a8b844d484f6ea75a2e494")
    );
    call!(c, called, imopenlines::network_message_add, network_message_add,
        m::Request::new("ab515f5d85a8b844d484f6ea75a2e494", 2, "Подготовили материалы по подключению открытых линий")
            .keyboard(obj::<serde_json::Map<String, Value>>(json!({"BUTTONS": [{"TEXT": "Открыть инструкцию", "LINK": "https://help.example.com/openlines/setup", "DISPLAY": "LINE"}]})))
            .url_preview("N"));

    // imopenlines.operator.*
    call!(
        c,
        called,
        imopenlines::operator_another_finish,
        operator_another_finish,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::operator_answer,
        operator_answer,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::operator_finish,
        operator_finish,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::operator_skip,
        operator_skip,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::operator_spam,
        operator_spam,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::operator_transfer,
        operator_transfer,
        m::Request::new(2043).user_id(15)
    );

    // imopenlines.revision / session.*
    call!(
        c,
        called,
        imopenlines::revision_get,
        revision_get,
        m::Request::new()
    );
    call!(
        c,
        called,
        imopenlines::session_head_vote,
        session_head_vote,
        m::Request::new(1743)
            .rating(5)
            .comment("Отличная обработка")
    );
    call!(
        c,
        called,
        imopenlines::session_history_get,
        session_history_get,
        m::Request::session_id(321)
    );
    call!(
        c,
        called,
        imopenlines::session_intercept,
        session_intercept,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::session_join,
        session_join,
        m::Request::new(2043)
    );
    call!(
        c,
        called,
        imopenlines::session_mode_pin,
        session_mode_pin,
        m::Request::new(2043).activate("Y")
    );
    call!(
        c,
        called,
        imopenlines::session_mode_pin_all,
        session_mode_pin_all,
        m::Request::new()
    );
    call!(
        c,
        called,
        imopenlines::session_mode_silent,
        session_mode_silent,
        m::Request::new(2043).activate("Y")
    );
    call!(
        c,
        called,
        imopenlines::session_mode_unpin_all,
        session_mode_unpin_all,
        m::Request::new()
    );
    call!(
        c,
        called,
        imopenlines::session_open,
        session_open,
        m::Request::new("livechat|22|1761|587")
    );
    call!(
        c,
        called,
        imopenlines::session_start,
        session_start,
        m::Request::new(2043)
    );

    // Every generated method was called once, and the portal executed each of them once.
    called.sort_unstable();
    assert_eq!(
        called,
        b24_openlines::METHODS,
        "one call per generated method"
    );
    assert_eq!(called.len(), 57, "50 open-lines methods and 7 `event.*`");
    let counters = portal.counters();
    for method in b24_openlines::METHODS {
        assert_eq!(
            counters.executed(method),
            1,
            "{method} executed once by the portal"
        );
    }
}

#[test]
fn request_objects_are_built_with_constructors_and_setters() {
    use b24_core::ToParam;
    use b24_openlines::imconnector::send_messages as m;
    let built = m::Messages::new()
        .user(m::User::new("ext-user-42").name("Иван"))
        .message(
            m::Message::new()
                .id("ext-msg-1001")
                .date(1773265993)
                .text("Добрый день"),
        )
        .chat(m::Chat::new("channel-123"));
    let from_docs: m::Messages = obj(json!({
        "user": {"id": "ext-user-42", "name": "Иван"},
        "message": {"id": "ext-msg-1001", "date": 1773265993, "text": "Добрый день"},
        "chat": {"id": "channel-123"}
    }));
    assert_eq!(built, from_docs);
    assert_eq!(
        built.to_param(),
        json!({
            "user": {"id": "ext-user-42", "name": "Иван"},
            "message": {"id": "ext-msg-1001", "date": 1773265993, "text": "Добрый день"},
            "chat": {"id": "channel-123"}
        })
    );
}
