//! Every method generated from `spec/`, found through `b24_openlines::visit_methods`, so a new
//! spec file is covered with no edit here. For each method, every documented example:
//!
//! * decodes, as the client decodes an answer, into the method's typed output (a success) or
//!   its typed error with a documented code (an error);
//! * is sent through the client to the local portal with its documented `request`: a success
//!   comes back as the typed output, and as JSON equal to the spec's first documented
//!   success (what the portal answers); an error, asked of the portal with `__mock_error`,
//!   comes back as the same typed error with the documented status.
//!
//! The portal's counters then show each method executed once per success call and refused
//! once per error call. `imopenlines.dialog.get` is the one method the portal answers from its
//! seeded chats instead of the spec's example; its answer is checked field by field below.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::Path;

use b24_core::{decode_response, ApiErrorCode, Call, Error, Example, Lenient};
use b24_core::{MethodErrorCode, MethodVisitor};
use b24_mock_portal::{
    LimitConfig, MockPortal, OAuthApp, PortalConfig, SeedChat, MOCK_ERROR_PARAM,
};
use b24_openlines::{decode_json, Client, Method, MethodKind};
use b24_spec::wire::{param_shape, ParamShape};
use b24_spec::Spec;
use serde_json::{json, Map, Value};

/// Method `M` called with a documented request as it is written in the spec (the generated
/// `Request` has no constructor from JSON), its answer decoded as `O`: `M::Output`, or the
/// JSON itself. Errors are `M`'s typed errors either way.
struct Documented<M, O> {
    params: Map<String, Value>,
    method: PhantomData<fn() -> (M, O)>,
}

impl<M: Method, O: Lenient + Send + 'static> Method for Documented<M, O> {
    const NAME: &'static str = M::NAME;
    const SCOPE: &'static str = M::SCOPE;
    const KIND: MethodKind = M::KIND;
    const PAGED: bool = M::PAGED;
    type Output = O;
    type ErrorCode = M::ErrorCode;
    fn params(&self) -> Map<String, Value> {
        self.params.clone()
    }
}

fn documented<M: Method, O: Lenient + Send + 'static>(
    params: &Map<String, Value>,
) -> Documented<M, O> {
    Documented {
        params: params.clone(),
        method: PhantomData,
    }
}

/// What the portal should have counted for one method.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    /// Requests that reached the method.
    calls: u64,
    /// Calls whose method ran (a stateful method that then refused counts here too).
    executed: u64,
    /// Calls answered with an error.
    errors: u64,
}

/// Calls every documented example of each visited method and notes what went wrong.
struct Caller<'a> {
    rt: &'a tokio::runtime::Runtime,
    client: &'a Client,
    specs: &'a BTreeMap<String, Spec>,
    visited: Vec<&'static str>,
    expected: BTreeMap<&'static str, Expected>,
    problems: Vec<String>,
}

impl Caller<'_> {
    /// Checks one error example of `M`: its body decodes to a documented typed error, and the
    /// portal, asked for its code, answers the same typed error.
    fn error<M: Method>(&mut self, ex: &Example, code: &str, params: &Map<String, Value>) {
        let name = format!("{} / {}", M::NAME, ex.name);
        let want = match decode_response::<M::Output, M::ErrorCode>(
            M::NAME,
            ex.status,
            Some("application/json"),
            ex.body.as_bytes(),
        ) {
            Err(Error::Api { error, .. }) => error,
            Err(e) => return self.problems.push(format!("{name}: decodes to {e}")),
            Ok(_) => return self.problems.push(format!("{name}: decodes as a success")),
        };
        if want.status != ex.status {
            self.problems
                .push(format!("{name}: status {} decoded", want.status));
        }
        let typed = match &want.code {
            ApiErrorCode::Method(c) => M::ErrorCode::documented(c.as_str()).is_some(),
            ApiErrorCode::Portal(_) => true,
        };
        if !typed {
            self.problems.push(format!(
                "{name}: `{code}` is neither documented by the method nor portal-wide"
            ));
        }
        let mut params = params.clone();
        params.insert(MOCK_ERROR_PARAM.into(), Value::from(code));
        let request = documented::<M, M::Output>(&params);
        match self.rt.block_on(Call::call(self.client, &request)) {
            Err(Error::Api { error, .. }) => {
                if (&error.code, error.status) != (&want.code, ex.status) {
                    self.problems.push(format!(
                        "{name}: the portal answers {} (HTTP {}), documented {} (HTTP {})",
                        error.code, error.status, want.code, ex.status
                    ));
                }
            }
            Err(e) => self.problems.push(format!("{name}: the call fails: {e}")),
            Ok(_) => self
                .problems
                .push(format!("{name}: the portal answers a success")),
        }
        let counted = self.expected.entry(M::NAME).or_default();
        counted.calls += 1;
        counted.errors += 1;
    }

    /// Checks one success example of `M`: its body decodes to the typed output and, when it
    /// documents the request (or the method needs no parameter), the portal answers that
    /// request with the typed output and the spec's first success.
    fn success<M: Method>(&mut self, spec: &Spec, ex: &Example, params: Option<&Value>) {
        let name = format!("{} / {}", M::NAME, ex.name);
        if let Err(e) = decode_response::<M::Output, M::ErrorCode>(
            M::NAME,
            ex.status,
            Some("application/json"),
            ex.body.as_bytes(),
        ) {
            self.problems
                .push(format!("{name}: the documented answer: {e}"));
        }
        let needs_nothing = spec
            .params
            .iter()
            .all(|p| matches!(param_shape(spec, p), ParamShape::Optional));
        let params = match params {
            Some(Value::Object(p)) => p.clone(),
            Some(other) => {
                return self
                    .problems
                    .push(format!("{name}: the request is not an object: {other}"))
            }
            // The docs show the answer without the request: nothing to send.
            None if !needs_nothing => return,
            None => Map::new(),
        };
        let typed = self.rt.block_on(Call::call(
            self.client,
            &documented::<M, M::Output>(&params),
        ));
        if MockPortal::answers_from_state(M::NAME) {
            // The answer is the portal's state (a documented request may name an event or a
            // chat this portal does not have): a typed result or one of the method's own
            // documented errors. `stateful_methods_answer_from_the_portal_state` checks what.
            let counted = self.expected.entry(M::NAME).or_default();
            match typed {
                Ok(_) => {
                    counted.calls += 1;
                    counted.executed += 1;
                }
                Err(Error::Api { error, .. }) => {
                    // The method ran and refused: counted as executed and as an error.
                    counted.calls += 1;
                    counted.executed += 1;
                    counted.errors += 1;
                    let documented = match &error.code {
                        ApiErrorCode::Method(c) => M::ErrorCode::documented(c.as_str()).is_some(),
                        ApiErrorCode::Portal(_) => true,
                    };
                    if !documented {
                        self.problems.push(format!(
                            "{name}: the portal answers {}, which the spec does not document",
                            error.code
                        ));
                    }
                }
                Err(e) => self.problems.push(format!("{name}: typed call: {e}")),
            }
            return;
        }
        if let Err(e) = typed {
            self.problems.push(format!("{name}: typed call: {e}"));
        }
        let raw = self
            .rt
            .block_on(Call::call(self.client, &documented::<M, Value>(&params)));
        match raw {
            Ok(got) => {
                let first = spec
                    .examples
                    .iter()
                    .filter(|e| e.status == 200)
                    .find_map(|e| e.body.get("result"));
                if Some(&got) != first {
                    self.problems.push(format!(
                        "{name}: the portal answers {got}, not the first documented success"
                    ));
                }
            }
            Err(e) => self.problems.push(format!("{name}: call: {e}")),
        }
        let counted = self.expected.entry(M::NAME).or_default();
        counted.calls += 2;
        counted.executed += 2;
    }
}

impl MethodVisitor for Caller<'_> {
    fn visit<M: Method>(&mut self, examples: &'static [Example]) {
        self.visited.push(M::NAME);
        let specs = self.specs;
        let Some(spec) = specs.get(M::NAME) else {
            return self
                .problems
                .push(format!("{}: generated, but no spec file", M::NAME));
        };
        let documented: Vec<(&str, u16, &str)> = spec
            .examples
            .iter()
            .map(|e| (e.name.as_str(), e.status, e.raw.as_str()))
            .collect();
        let generated: Vec<(&str, u16, &str)> = examples
            .iter()
            .map(|e| (e.name, e.status, e.body))
            .collect();
        if generated != documented {
            self.problems
                .push(format!("{}: EXAMPLES differ from the spec file's", M::NAME));
        }
        for (ex, doc) in examples.iter().zip(&spec.examples) {
            match doc.body.get("error").and_then(Value::as_str) {
                Some(code) => {
                    let params = match &doc.request {
                        Some(Value::Object(p)) => p.clone(),
                        _ => Map::new(),
                    };
                    self.error::<M>(ex, code, &params);
                }
                None => self.success::<M>(spec, ex, doc.request.as_ref()),
            }
        }
        // A stateful method's documented request may meet a documented error on this portal
        // (an event it does not have); it must still have been called.
        let called = |e: &Expected| match MockPortal::answers_from_state(M::NAME) {
            true => e.calls > 0,
            false => e.executed > 0,
        };
        if !self.expected.get(M::NAME).is_some_and(called) {
            self.problems.push(format!(
                "{}: no documented success with a request to call it with",
                M::NAME
            ));
        }
    }
}

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The portal's data set, plus a chat 29: the 2024 docs ask `imopenlines.dialog.get` for
/// `chat29` (and show another chat's answer). No rate limit: there are more calls than the
/// bucket holds.
fn portal_config() -> PortalConfig {
    let mut config = PortalConfig::default()
        .with_limits(LimitConfig::unlimited())
        .with_app(OAuthApp::new(APP, "app-secret"));
    if let Some(chat) = config.chats.iter().find(|c| c.id == 1364).cloned() {
        config.chats.push(SeedChat { id: 29, ..chat });
    }
    config
}

/// The application whose token calls every method.
const APP: &str = "local.family.test";

/// An application's client: open-lines integrations are applications, and `event.*` and the
/// connector methods (`imconnector.register`, `.send.messages`...) answer a webhook with
/// `WRONG_AUTH_TYPE`, as the server does; every other method takes an application's token too.
fn client_of(portal: &MockPortal) -> Client {
    let pair = portal
        .issue_tokens(APP)
        .expect("the configured application");
    Client::builder_oauth(&portal.base_url(), pair.access_token)
        .retry(b24_runtime::RetryPolicy::none())
        .rate_limit(None)
        .build()
        .expect("an OAuth client")
}

#[test]
fn every_documented_example_is_answered_and_decodes_typed() {
    let family = b24_spec::load_family(&workspace_root().join("spec"), workspace_root())
        .expect("the workspace specs load");
    let specs: BTreeMap<String, Spec> = family
        .methods
        .into_iter()
        .map(|s| (s.method.clone(), s))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let portal = rt
        .block_on(MockPortal::start(portal_config()))
        .expect("the local portal starts");
    let client = client_of(&portal);
    let mut caller = Caller {
        rt: &rt,
        client: &client,
        specs: &specs,
        visited: Vec::new(),
        expected: BTreeMap::new(),
        problems: Vec::new(),
    };
    b24_openlines::visit_methods(&mut caller);
    let Caller {
        visited,
        expected,
        problems,
        ..
    } = caller;
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Every spec file is generated, visited and served by the portal.
    assert_eq!(
        visited,
        b24_openlines::METHODS,
        "visit_methods follows METHODS"
    );
    let mut generated: Vec<&str> = visited.clone();
    generated.sort_unstable();
    let files: Vec<&str> = specs.keys().map(String::as_str).collect();
    assert_eq!(generated, files, "one generated method per spec file");
    assert_eq!(portal.methods(), files, "the portal serves every spec file");

    let counters = portal.counters();
    for method in &visited {
        let c = counters.method(method);
        let got = Expected {
            calls: c.calls,
            executed: c.executed,
            errors: c.errors,
        };
        assert_eq!(Some(&got), expected.get(method), "{method}");
    }
    rt.block_on(portal.shutdown());
}

/// The documented `result` of a method's first 200 example, decoded by the client's types.
fn first_success<T: Lenient>(examples: &[Example]) -> T {
    let ex = examples
        .iter()
        .find(|e| e.status == 200)
        .expect("every spec documents a success");
    let body: Value = serde_json::from_str(ex.body).expect("example bodies are JSON");
    let result = serde_json::to_vec(&body["result"]).expect("a JSON value serialises");
    decode_json(&result).expect("the documented result decodes (cargo xtask check)")
}

/// `imopenlines.dialog.get` through its client method: the documented example, with the
/// values of the seeded chat the request names.
#[tokio::test]
async fn dialog_get_answers_with_the_seeded_chat() {
    use b24_openlines::imopenlines::dialog_get as m;
    let portal = MockPortal::start(portal_config())
        .await
        .expect("the local portal starts");
    let client = client_of(&portal);
    let got = client
        .dialog_get(m::Request::user_code("livechat|1|1373|211"))
        .await
        .unwrap_or_else(|e| panic!("imopenlines.dialog.get: {e}"));
    let want: m::Response = first_success(m::EXAMPLES);
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
    assert_eq!(portal.counters().executed(m::METHOD), 1);
    portal.shutdown().await;
}

/// A request object built from the docs' example value.
fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("the documented parameter object decodes")
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

/// The methods the portal answers from its state, driven through a sequence whose answers are
/// known: bindings and the offline queue of an application, and a connector's message landing
/// in a new conversation of line 107.
#[tokio::test]
async fn stateful_methods_answer_from_the_portal_state() {
    let portal = MockPortal::start(portal_config())
        .await
        .expect("the local portal starts");
    let app = client_of(&portal);
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
        assert!(app
            .event_get(get::Request::new())
            .await
            .expect("event.get")
            .is_empty());
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
        assert!(app
            .event_offline_list(offline_list::Request::new())
            .await
            .expect("event.offline.list")
            .is_empty());
    }
    {
        use b24_openlines::imconnector::send_messages as m;
        let message: m::Messages = serde_json::from_value(json!({
            "user": {"id": "ext-user-42", "last_name": "Иванов", "name": "Иван", "picture": {"url": "https://example.ru/u42.png"}, "url": "https://example.ru/users/42", "gender": "male", "email": "ivan@example.ru", "phone": "+79990000000", "skip_phone_validate": "Y"},
            "message": {"id": "ext-msg-1001", "date": 1773265993, "text": "Добрый день", "files": [{"url": "https://example.ru/files/spec.pdf", "name": "spec.pdf"}], "disable_crm": "Y"},
            "chat": {"id": "channel-123", "name": "Канал поддержки", "url": "https://example.ru/chats/123"}
        }))
        .expect("the documented message decodes");
        let got = app
            .imconnector_send_messages(m::Request::new("myconnector", 107, vec![message]))
            .await
            .expect("imconnector.send.messages");
        let mut want: m::Response = first_success(m::EXAMPLES);
        let conversations = portal.conversations(Some(107));
        assert_eq!(conversations.len(), 1, "one new conversation");
        let conversation = &conversations[0];
        assert_eq!(conversation.messages.len(), 1);
        assert_eq!(conversation.messages[0].text, "Добрый день");
        let item = &mut want.data.result[0];
        item.user = Some(conversation.user_id.to_string());
        if let Some(session) = item.session.as_mut() {
            session.id = conversation.session_id.to_string();
            session.chat_id = conversation.chat_id.to_string();
        }
        assert_eq!(
            got, want,
            "the documented answer, with the portal's own ids"
        );
    }
    portal.shutdown().await;
}
