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
use b24_mock_portal::{LimitConfig, MockPortal, PortalConfig, SeedChat, MOCK_ERROR_PARAM};
use b24_openlines::{decode_json, Client, Method, MethodKind};
use b24_spec::wire::{param_shape, ParamShape};
use b24_spec::Spec;
use serde_json::{json, Map, Value};

/// The method the portal answers from its seeded chats rather than from the spec's example.
const STATEFUL: &str = "imopenlines.dialog.get";

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
    executed: u64,
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
        self.expected.entry(M::NAME).or_default().errors += 1;
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
        if let Err(e) = typed {
            self.problems.push(format!("{name}: typed call: {e}"));
        }
        let raw = self
            .rt
            .block_on(Call::call(self.client, &documented::<M, Value>(&params)));
        match raw {
            Ok(got) if M::NAME != STATEFUL => {
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
            Ok(_) => {}
            Err(e) => self.problems.push(format!("{name}: call: {e}")),
        }
        self.expected.entry(M::NAME).or_default().executed += 2;
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
        if self.expected.get(M::NAME).is_none_or(|e| e.executed == 0) {
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
    let mut config = PortalConfig::default().with_limits(LimitConfig::unlimited());
    if let Some(chat) = config.chats.iter().find(|c| c.id == 1364).cloned() {
        config.chats.push(SeedChat { id: 29, ..chat });
    }
    config
}

fn client_of(portal: &MockPortal) -> Client {
    b24_runtime::Client::builder_webhook(&portal.webhook_url())
        .retry(b24_runtime::RetryPolicy::none())
        .rate_limit(None)
        .build()
        .expect("a webhook client")
        .into()
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
            executed: c.executed,
            errors: c.errors,
        };
        assert_eq!(Some(&got), expected.get(method), "{method}");
        assert_eq!(c.calls, c.executed + c.errors, "{method}");
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
    let portal = MockPortal::start(PortalConfig::default())
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
