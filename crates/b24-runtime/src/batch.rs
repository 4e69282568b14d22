//! `batch`: many calls in one request. A typed [`Batch`] returns a [`Handle`] per pushed
//! request that later yields that call's typed result or typed error; [`Client::many`] packs
//! independent calls 50 to a request and keeps several requests in flight, as the bucket
//! allows.
//!
//! What a command's error says about whether it ran:
//!
//! * `Error::Api`: the portal ran it and it failed (`result_error`).
//! * `Error::NotExecuted`: the portal provably did not run it: the batch request never
//!   connected, was refused before anything ran (rate or operating-time limit, auth), or
//!   `halt` stopped the batch at an earlier failed command.
//! * `Error::OutcomeUnknown`: anything else. The batch request may have reached the portal
//!   and its answer was lost, cut off, not JSON, too large or an error of the portal's own
//!   (JSON 500), or the answer lacks this command. A write in it may have happened; a
//!   batch with a write is never replayed (a batch of reads is, as single reads are).

use std::marker::PhantomData;

use b24_core::{
    decode_value, ApiError, ApiErrorCode, Error, Method, MethodErrorCode, MethodKind,
    PortalErrorCode, Redactor, TransportPhase, UndocumentedCode,
};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::{encode_query, Client};

/// The portal runs at most this many commands in one `batch`.
pub const BATCH_LIMIT: usize = 50;

struct Command {
    method: String,
    query: String,
    kind: MethodKind,
}

impl Command {
    fn of<M: Method>(request: &M) -> Command {
        Command {
            method: M::NAME.to_string(),
            query: encode_query(&request.params()),
            kind: M::KIND,
        }
    }
}

/// What happened to one command.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Its entry of `result`.
    Done(Value),
    /// Its entry of `result_error` (secrets cut out).
    Failed { code: String, description: String },
    /// Provably not run: why.
    NotRun(String),
    /// May or may not have run: why the answer does not say.
    Lost(String),
}

/// A typed result slot of a [`Batch`].
#[derive(Debug)]
pub struct Handle<M> {
    index: usize,
    _method: PhantomData<fn() -> M>,
}

impl<M> Clone for Handle<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Handle<M> {}

/// Calls to send together. Split into requests of [`BATCH_LIMIT`] commands.
#[must_use]
pub struct Batch {
    client: Client,
    commands: Vec<Command>,
    halt: bool,
}

/// The outcome of every command of a sent [`Batch`].
#[derive(Debug)]
pub struct BatchResults {
    outcomes: Vec<Outcome>,
    requests: usize,
    /// Cuts the client's secrets out of decoding errors of the results.
    redactor: Redactor,
}

impl Client {
    /// An empty batch on this client.
    pub fn batch(&self) -> Batch {
        Batch {
            client: self.clone(),
            commands: Vec::new(),
            halt: false,
        }
    }

    /// Runs independent calls of one method, 50 to a `batch` request, several requests in
    /// flight as the rate limit allows. Results come back in the order of `requests`.
    pub async fn many<M: Method>(
        &self,
        requests: impl IntoIterator<Item = M>,
    ) -> Vec<Result<M::Output, Error<M::ErrorCode>>> {
        let commands: Vec<Command> = requests.into_iter().map(|r| Command::of(&r)).collect();
        let chunks: Vec<&[Command]> = commands.chunks(BATCH_LIMIT).collect();
        let redactor = &self.redactor(None);
        // Each chunk's results are decoded as soon as its answer arrives, while later chunks
        // wait for the bucket, so the caller does not wait for 5,000 decodes after the last
        // answer.
        type Decoded<M> = Vec<Result<<M as Method>::Output, Error<<M as Method>::ErrorCode>>>;
        let mut answered: Vec<(usize, Decoded<M>)> = futures_util::stream::iter(
            chunks.into_iter().enumerate().map(|(i, chunk)| async move {
                let outcomes = send_chunk(self, chunk, false).await;
                let results = outcomes
                    .into_iter()
                    .map(|o| outcome_result::<M>(o, redactor))
                    .collect();
                (i, results)
            }),
        )
        .buffer_unordered(self.inner.max_in_flight)
        .collect()
        .await;
        answered.sort_by_key(|(i, _)| *i);
        answered
            .into_iter()
            .flat_map(|(_, results)| results)
            .collect()
    }
}

impl Batch {
    /// Stop at the first failed command (`halt=1`): later commands, in this request and the
    /// following ones, are not run and yield `Error::NotExecuted`. A request whose outcome is
    /// unknown also stops the batch: the following requests are not sent.
    pub fn halt(mut self, halt: bool) -> Self {
        self.halt = halt;
        self
    }

    /// Adds a call; its handle yields the typed result after [`Batch::send`].
    pub fn push<M: Method>(&mut self, request: &M) -> Handle<M> {
        self.commands.push(Command::of(request));
        Handle {
            index: self.commands.len() - 1,
            _method: PhantomData,
        }
    }

    /// Number of calls.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether no call was added.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Sends the calls, 50 to a request, one request after the other.
    pub async fn send(self) -> BatchResults {
        let mut outcomes = Vec::with_capacity(self.commands.len());
        let mut requests = 0;
        let mut halted = false;
        for chunk in self.commands.chunks(BATCH_LIMIT) {
            if halted {
                outcomes.extend(chunk.iter().map(|_| {
                    Outcome::NotRun(
                        "not sent: an earlier command failed or its outcome is unknown, and the \
                         batch halts"
                            .into(),
                    )
                }));
                continue;
            }
            requests += 1;
            let answered = send_chunk(&self.client, chunk, self.halt).await;
            halted = self.halt && answered.iter().any(|o| !matches!(o, Outcome::Done(_)));
            outcomes.extend(answered);
        }
        BatchResults {
            outcomes,
            requests,
            redactor: self.client.redactor(None),
        }
    }
}

impl BatchResults {
    /// The typed result of one call.
    pub fn get<M: Method>(&self, handle: Handle<M>) -> Result<M::Output, Error<M::ErrorCode>> {
        match self.outcomes.get(handle.index) {
            Some(o) => outcome_result::<M>(o.clone(), &self.redactor),
            None => Err(Error::NotExecuted {
                method: M::NAME.to_string(),
                reason: "the handle belongs to another batch".into(),
            }),
        }
    }

    /// How many `batch` HTTP requests were sent.
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// How many calls succeeded.
    pub fn succeeded(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Done(_)))
            .count()
    }
}

fn outcome_result<M: Method>(
    o: Outcome,
    redactor: &Redactor,
) -> Result<M::Output, Error<M::ErrorCode>> {
    let method = M::NAME.to_string();
    match o {
        Outcome::Done(v) => decode_value::<M::Output>(v).map_err(|e| Error::Decode {
            method,
            status: 200,
            path: redactor.redact_owned(format!(
                "result.result.<command>{}",
                e.path.trim_start_matches('.')
            )),
            message: redactor.redact_owned(e.message),
        }),
        Outcome::Failed { code, description } => {
            let code = ApiErrorCode::<M::ErrorCode>::parse(&code);
            // A command's error carries no HTTP status of its own: use the documented one.
            let status = match &code {
                ApiErrorCode::Method(c) => c.documented_status(),
                ApiErrorCode::Portal(p) => Some(p.documented_status()),
            }
            .unwrap_or(400);
            Err(Error::Api {
                method,
                error: Box::new(ApiError {
                    status,
                    code,
                    description,
                    extra: Map::new(),
                }),
            })
        }
        Outcome::NotRun(reason) => Err(Error::NotExecuted { method, reason }),
        Outcome::Lost(reason) => Err(Error::OutcomeUnknown {
            method,
            source: reason.into(),
        }),
    }
}

fn name(i: usize) -> String {
    format!("c{i}")
}

/// Sends up to 50 commands as one `batch` request (with the client's limits and retries).
async fn send_chunk(client: &Client, commands: &[Command], halt: bool) -> Vec<Outcome> {
    let kind = if commands.iter().all(|c| c.kind == MethodKind::Read) {
        MethodKind::Read
    } else {
        MethodKind::Write
    };
    let cmd: Map<String, Value> = commands
        .iter()
        .enumerate()
        .map(|(i, c)| (name(i), Value::String(format!("{}?{}", c.method, c.query))))
        .collect();
    let mut params = Map::new();
    params.insert("halt".into(), Value::from(u8::from(halt)));
    params.insert("cmd".into(), Value::Object(cmd));
    // Errors of `execute` already have the client's secrets cut out.
    let every = |o: Outcome| commands.iter().map(|_| o.clone()).collect();
    match client
        .execute::<Value, UndocumentedCode>("batch", kind, &params)
        .await
    {
        Ok(env) => parse_answer(&env.result, commands.len(), halt, &client.redactor(None)),
        Err(e) if never_ran(&e) => every(Outcome::NotRun(format!(
            "the batch request was refused before any command ran: {e}"
        ))),
        Err(Error::OutcomeUnknown { source, .. }) => every(Outcome::Lost(source.to_string())),
        Err(e) => every(Outcome::Lost(e.to_string())),
    }
}

/// Whether the failure of a `batch` request proves that the portal ran none of its commands:
/// nothing was sent, or the portal refused the request before dispatching any command (its
/// limits, authentication, a request it does not accept). Everything else (a lost, cut-off,
/// unreadable or oversized answer, the portal's own 500) may come after some commands ran.
fn never_ran(e: &Error) -> bool {
    match e {
        Error::Transport {
            phase: TransportPhase::Connect,
            ..
        }
        | Error::InvalidRequest { .. }
        | Error::RateLimiter { .. }
        | Error::NotExecuted { .. }
        // The portal answered `expired_token` (nothing ran), and the refresh failed, so the
        // request was not sent again.
        | Error::TokenRefresh { .. } => true,
        Error::Api { error, .. } => matches!(
            error.code,
            ApiErrorCode::Portal(
                PortalErrorCode::QueryLimitExceeded
                    | PortalErrorCode::OperationTimeLimit
                    | PortalErrorCode::OverloadLimit
                    | PortalErrorCode::NoAuthFound
                    | PortalErrorCode::InvalidCredentials
                    | PortalErrorCode::AccessDenied
                    | PortalErrorCode::InsufficientScope
                    | PortalErrorCode::ExpiredToken
                    | PortalErrorCode::InvalidToken
                    | PortalErrorCode::UserAccessError
                    | PortalErrorCode::InvalidRequest
                    | PortalErrorCode::PortalDeleted
                    | PortalErrorCode::ErrorMethodNotFound
                    | PortalErrorCode::ErrorBatchLengthExceeded
                    | PortalErrorCode::ErrorBatchMethodNotAllowed
            )
        ),
        _ => false,
    }
}

fn part<'a>(result: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    result.get(key).and_then(Value::as_object)
}

/// Reads `{"result": {...}, "result_error": {...}, ...}` (each part `[]` when empty) into
/// exactly one outcome for each of the `n` commands `c0`..: its error, else its result.
/// A command the answer lacks was not run only when `halt` stopped the batch at an earlier
/// failed command; otherwise the answer is incomplete and its outcome unknown.
fn parse_answer(result: &Value, n: usize, halt: bool, redactor: &Redactor) -> Vec<Outcome> {
    let ok = part(result, "result");
    let failed = part(result, "result_error");
    let text = |err: &Value, key: &str| {
        err.get(key)
            .and_then(Value::as_str)
            .map(|s| redactor.redact(s).into_owned())
    };
    let mut halted = false;
    (0..n)
        .map(|i| {
            let key = name(i);
            if let Some(err) = failed.and_then(|m| m.get(&key)) {
                halted = halt;
                Outcome::Failed {
                    code: text(err, "error").unwrap_or_else(|| "UNKNOWN".into()),
                    description: text(err, "error_description").unwrap_or_default(),
                }
            } else if let Some(v) = ok.and_then(|m| m.get(&key)) {
                Outcome::Done(v.clone())
            } else if halted {
                Outcome::NotRun("the batch halted at an earlier failed command".into())
            } else {
                Outcome::Lost(format!(
                    "the batch answer has neither a result nor an error for its command `{key}`"
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use b24_core::{decode_response, Secret};
    use proptest::prelude::*;
    use serde_json::json;

    fn parse(answer: &Value, n: usize, halt: bool) -> Vec<Outcome> {
        parse_answer(answer, n, halt, &Redactor::default())
    }

    #[test]
    fn answers_with_empty_parts_and_errors() {
        let answer = json!({
            "result": {"c0": {"id": 1}, "c2": true},
            "result_error": {"c1": {"error": "ACCESS_ERROR", "error_description": "no"}},
            "result_total": [], "result_next": [], "result_time": {}
        });
        let o = parse(&answer, 4, false);
        assert!(matches!(&o[0], Outcome::Done(v) if v["id"] == 1));
        assert!(matches!(&o[1], Outcome::Failed { code, .. } if code == "ACCESS_ERROR"));
        assert!(matches!(&o[2], Outcome::Done(Value::Bool(true))));
        // Without `halt` every command runs: one the answer lacks is not "halted".
        assert!(
            matches!(&o[3], Outcome::Lost(r) if r.contains("`c3`")),
            "{o:?}"
        );
        // With `halt`, a command after a failed one did not run.
        let o = parse(&answer, 4, true);
        assert!(matches!(&o[3], Outcome::NotRun(_)), "{o:?}");
        // ... but one the answer lacks without an earlier failure may have.
        let o = parse(&json!({"result": {"c0": 1}, "result_error": []}), 2, true);
        assert!(matches!(&o[1], Outcome::Lost(_)), "{o:?}");
        for answer in [
            json!({"result": [], "result_error": []}),
            json!([]),
            json!("not a batch answer"),
        ] {
            let o = parse(&answer, 1, true);
            assert!(matches!(&o[0], Outcome::Lost(_)), "{answer}: {o:?}");
        }
    }

    #[test]
    fn command_errors_have_the_secrets_cut_out() {
        let redactor = Redactor::new([Secret::new("tok3n-value")]);
        let answer = json!({"result": [], "result_error": {"c0": {
            "error": "invalid_token",
            "error_description": "token tok3n-value refused at /rest/1/hook/x.json"
        }}});
        let o = parse_answer(&answer, 1, false, &redactor);
        assert_eq!(
            o[0],
            Outcome::Failed {
                code: "invalid_token".into(),
                description: "token *** refused at /rest/1/***/x.json".into()
            }
        );
        let e =
            outcome_result::<Count>(Outcome::Done(json!("tok3n-value")), &redactor).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        assert!(!format!("{e} {e:?}").contains("tok3n"), "{e:?}");
    }

    #[test]
    fn refusals_before_anything_ran_are_told_apart_from_lost_answers() {
        let api = |status: u16, code: &str| {
            let body = format!(r#"{{"error":"{code}","error_description":"x"}}"#);
            decode_response::<Value, UndocumentedCode>("batch", status, None, body.as_bytes())
                .unwrap_err()
        };
        for (status, code) in [
            (503, "QUERY_LIMIT_EXCEEDED"),
            (429, "OPERATION_TIME_LIMIT"),
            (401, "NO_AUTH_FOUND"),
            (401, "expired_token"),
            (403, "insufficient_scope"),
        ] {
            assert!(never_ran(&api(status, code)), "{code}");
        }
        for (status, code) in [(500, "INTERNAL_SERVER_ERROR"), (400, "SOMETHING_NEW")] {
            assert!(!never_ran(&api(status, code)), "{code}");
        }
        let page =
            decode_response::<Value, UndocumentedCode>("batch", 200, None, b"<html>").unwrap_err();
        assert!(!never_ran(&page));
    }

    /// A write method with an integer result.
    struct Count;

    impl Method for Count {
        const NAME: &'static str = "x.count";
        const SCOPE: &'static str = "x";
        const KIND: MethodKind = MethodKind::Write;
        type Output = i64;
        type ErrorCode = UndocumentedCode;
        fn params(&self) -> Map<String, Value> {
            Map::new()
        }
    }

    /// A read method with any result.
    struct Anything;

    impl Method for Anything {
        const NAME: &'static str = "x.get";
        const SCOPE: &'static str = "x";
        const KIND: MethodKind = MethodKind::Read;
        type Output = Value;
        type ErrorCode = UndocumentedCode;
        fn params(&self) -> Map<String, Value> {
            Map::new()
        }
    }

    /// Keys that look like a batch answer's, so arbitrary objects often resemble one.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "c[0-9]{1,2}",
            "result(_error|_total|_next|_time)?",
            "error(_description)?",
            "[a-z]{0,4}",
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-zA-Z0-9_ ]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// What the portal did with one command.
    #[derive(Debug, Clone)]
    enum Ran {
        Done(Value),
        Failed(String, String),
        Absent,
    }

    fn ran() -> impl Strategy<Value = Ran> {
        prop_oneof![
            4 => json().prop_map(Ran::Done),
            2 => ("[A-Z_]{1,12}", ".{0,12}").prop_map(|(c, d)| Ran::Failed(c, d)),
            1 => Just(Ran::Absent),
        ]
    }

    /// The answer to `ran` as the portal writes it: each part `[]` when empty.
    fn answer(ran: &[Ran]) -> Value {
        let mut result = Map::new();
        let mut errors = Map::new();
        for (i, r) in ran.iter().enumerate() {
            match r {
                Ran::Done(v) => {
                    result.insert(name(i), v.clone());
                }
                Ran::Failed(code, description) => {
                    errors.insert(
                        name(i),
                        json!({"error": code, "error_description": description}),
                    );
                }
                Ran::Absent => {}
            }
        }
        let part = |m: Map<String, Value>| {
            if m.is_empty() {
                json!([])
            } else {
                Value::Object(m)
            }
        };
        json!({
            "result": part(result), "result_error": part(errors),
            "result_total": [], "result_next": [], "result_time": []
        })
    }

    /// One change to an answer: replace or remove the value at a path of keys.
    #[derive(Debug, Clone)]
    struct Mutation {
        path: Vec<String>,
        replacement: Option<Value>,
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        (
            prop::collection::vec(key(), 0..3),
            prop::option::weighted(0.7, json()),
        )
            .prop_map(|(path, replacement)| Mutation { path, replacement })
    }

    fn mutate(answer: &mut Value, m: &Mutation) {
        let Some((last, parents)) = m.path.split_last() else {
            if let Some(v) = &m.replacement {
                *answer = v.clone();
            }
            return;
        };
        let mut at = answer;
        for k in parents {
            match at.as_object_mut().and_then(|o| o.get_mut(k)) {
                Some(v) => at = v,
                None => return,
            }
        }
        if let Some(o) = at.as_object_mut() {
            match &m.replacement {
                Some(v) => {
                    o.insert(last.clone(), v.clone());
                }
                None => {
                    o.remove(last);
                }
            }
        }
    }

    /// Every command gets exactly one outcome, the one its entries call for, and every
    /// outcome turns into a typed result or typed error without a panic.
    fn check(answer: &Value, n: usize, halt: bool) -> Result<(), TestCaseError> {
        let outcomes = parse(answer, n, halt);
        prop_assert_eq!(outcomes.len(), n);
        let entry = |part: &str, i: usize| {
            answer
                .get(part)
                .and_then(Value::as_object)
                .and_then(|m| m.get(&name(i)))
        };
        let mut failed_before = false;
        for (i, o) in outcomes.iter().enumerate() {
            match (entry("result_error", i), entry("result", i)) {
                (Some(_), _) => {
                    prop_assert!(matches!(o, Outcome::Failed { .. }), "{}: {:?}", i, o);
                    failed_before = true;
                }
                (None, Some(v)) => prop_assert_eq!(o, &Outcome::Done(v.clone())),
                (None, None) if halt && failed_before => {
                    prop_assert!(matches!(o, Outcome::NotRun(_)), "{}: {:?}", i, o)
                }
                (None, None) => prop_assert!(matches!(o, Outcome::Lost(_)), "{}: {:?}", i, o),
            }
            let redactor = Redactor::default();
            let typed = outcome_result::<Count>(o.clone(), &redactor);
            let kind_kept = matches!(
                (o, &typed),
                (Outcome::Done(_), Ok(_) | Err(Error::Decode { .. }))
                    | (Outcome::Failed { .. }, Err(Error::Api { .. }))
                    | (Outcome::NotRun(_), Err(Error::NotExecuted { .. }))
                    | (Outcome::Lost(_), Err(Error::OutcomeUnknown { .. }))
            );
            prop_assert!(kind_kept, "{:?} became {:?}", o, typed);
            let any = outcome_result::<Anything>(o.clone(), &redactor);
            prop_assert_eq!(matches!(o, Outcome::Done(_)), any.is_ok());
        }
        Ok(())
    }

    proptest! {
        /// Well-formed answers give back exactly what the portal did.
        #[test]
        fn well_formed_answers_give_each_command_its_outcome(
            ran in prop::collection::vec(ran(), 0..=BATCH_LIMIT),
            halt in any::<bool>(),
        ) {
            // With `halt`, the portal stops after the first failed command.
            let ran: Vec<Ran> = if halt {
                let stop = ran.iter().position(|r| matches!(r, Ran::Failed(..)));
                ran.iter()
                    .enumerate()
                    .map(|(i, r)| if stop.is_some_and(|s| i > s) { Ran::Absent } else { r.clone() })
                    .collect()
            } else {
                ran
            };
            let answer = answer(&ran);
            check(&answer, ran.len(), halt)?;
            let outcomes = parse(&answer, ran.len(), halt);
            let mut failed_before = false;
            for (r, o) in ran.iter().zip(&outcomes) {
                match r {
                    Ran::Done(v) => prop_assert_eq!(o, &Outcome::Done(v.clone())),
                    Ran::Failed(code, description) => {
                        failed_before = true;
                        prop_assert_eq!(o, &Outcome::Failed {
                            code: code.clone(),
                            description: description.clone(),
                        });
                    }
                    Ran::Absent if halt && failed_before => {
                        prop_assert!(matches!(o, Outcome::NotRun(_)), "{:?}", o)
                    }
                    Ran::Absent => prop_assert!(matches!(o, Outcome::Lost(_)), "{:?}", o),
                }
            }
        }

        /// Mutated answers: no panic, one outcome for each command, as its entries say.
        #[test]
        fn mutated_answers_give_each_command_one_outcome(
            ran in prop::collection::vec(ran(), 0..=BATCH_LIMIT),
            mutations in prop::collection::vec(mutation(), 0..6),
            extra in 0usize..4,
            halt in any::<bool>(),
        ) {
            let mut answer = answer(&ran);
            for m in &mutations {
                mutate(&mut answer, m);
            }
            // More commands than the answer knows of, too.
            check(&answer, ran.len() + extra, halt)?;
        }

        /// Arbitrary JSON in place of the answer.
        #[test]
        fn arbitrary_answers_give_each_command_one_outcome(
            answer in json(),
            n in 0usize..=BATCH_LIMIT,
            halt in any::<bool>(),
        ) {
            check(&answer, n, halt)?;
        }

        /// Whole bodies cut short or with a byte changed, through the envelope decoder.
        #[test]
        fn damaged_bodies_decode_to_an_error_or_one_outcome_each(
            ran in prop::collection::vec(ran(), 0..12),
            cut in any::<prop::sample::Index>(),
            flip in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        ) {
            let mut body = json!({"result": answer(&ran), "time": {"start": 1}})
                .to_string()
                .into_bytes();
            if let Some((at, byte)) = flip {
                let i = at.index(body.len());
                if let Some(b) = body.get_mut(i) {
                    *b = byte;
                }
            }
            body.truncate(cut.index(body.len() + 1));
            if let Ok(env) = decode_response::<Value, UndocumentedCode>(
                "batch", 200, Some("application/json"), &body,
            ) {
                check(&env.result, ran.len(), false)?;
            }
        }
    }
}
