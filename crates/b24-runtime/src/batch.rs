//! `batch`: many calls in one request. A typed [`Batch`] returns a [`Handle`] per pushed
//! request that later yields that call's typed result or typed error; [`Client::many`] packs
//! independent calls 50 to a request and keeps several requests in flight, as the bucket
//! allows.

use std::marker::PhantomData;

use b24_core::{
    decode_value, ApiError, ApiErrorCode, Error, Method, MethodErrorCode, MethodKind,
    UndocumentedCode,
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
#[derive(Debug, Clone)]
enum Outcome {
    Done(Value),
    Failed { code: String, description: String },
    NotRun(String),
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
        // Each chunk's results are decoded as soon as its answer arrives, while later chunks
        // wait for the bucket, so the caller does not wait for 5,000 decodes after the last
        // answer.
        type Decoded<M> = Vec<Result<<M as Method>::Output, Error<<M as Method>::ErrorCode>>>;
        let mut answered: Vec<(usize, Decoded<M>)> = futures_util::stream::iter(
            chunks.into_iter().enumerate().map(|(i, chunk)| async move {
                let outcomes = send_chunk(self, chunk, false).await;
                (i, outcomes.into_iter().map(outcome_result::<M>).collect())
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
    /// following ones, are not run and yield `Error::NotExecuted`.
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
                    Outcome::NotRun("an earlier command failed and the batch halts".into())
                }));
                continue;
            }
            requests += 1;
            let answered = send_chunk(&self.client, chunk, self.halt).await;
            halted = self.halt && answered.iter().any(|o| !matches!(o, Outcome::Done(_)));
            outcomes.extend(answered);
        }
        BatchResults { outcomes, requests }
    }
}

impl BatchResults {
    /// The typed result of one call.
    pub fn get<M: Method>(&self, handle: Handle<M>) -> Result<M::Output, Error<M::ErrorCode>> {
        match self.outcomes.get(handle.index) {
            Some(o) => outcome_result::<M>(o.clone()),
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

fn outcome_result<M: Method>(o: Outcome) -> Result<M::Output, Error<M::ErrorCode>> {
    let method = M::NAME.to_string();
    match o {
        Outcome::Done(v) => decode_value::<M::Output>(v).map_err(|e| Error::Decode {
            method,
            status: 200,
            path: format!("result.result.<command>{}", e.path.trim_start_matches('.')),
            message: e.message,
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
    match client
        .execute::<Value, UndocumentedCode>("batch", kind, &params)
        .await
    {
        Ok(env) => parse_answer(env.result, commands.len()),
        Err(e @ Error::OutcomeUnknown { .. }) => {
            let reason = e.to_string();
            commands
                .iter()
                .map(|_| Outcome::Lost(reason.clone()))
                .collect()
        }
        Err(e) => {
            let reason = format!("the batch request failed: {e}");
            commands
                .iter()
                .map(|_| Outcome::NotRun(reason.clone()))
                .collect()
        }
    }
}

fn part<'a>(result: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    result.get(key).and_then(Value::as_object)
}

/// Reads `{"result": {...}, "result_error": {...}, ...}` (each part `[]` when empty).
fn parse_answer(result: Value, n: usize) -> Vec<Outcome> {
    let ok = part(&result, "result");
    let failed = part(&result, "result_error");
    (0..n)
        .map(|i| {
            let key = name(i);
            if let Some(err) = failed.and_then(|m| m.get(&key)) {
                let code = err
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("UNKNOWN")
                    .to_string();
                let description = err
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                Outcome::Failed { code, description }
            } else if let Some(v) = ok.and_then(|m| m.get(&key)) {
                Outcome::Done(v.clone())
            } else {
                Outcome::NotRun("the portal did not run this command (batch halted)".into())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_with_empty_parts_and_errors() {
        let answer = json!({
            "result": {"c0": {"id": 1}, "c2": true},
            "result_error": {"c1": {"error": "ACCESS_ERROR", "error_description": "no"}},
            "result_total": [], "result_next": [], "result_time": {}
        });
        let o = parse_answer(answer, 4);
        assert!(matches!(&o[0], Outcome::Done(v) if v["id"] == 1));
        assert!(matches!(&o[1], Outcome::Failed { code, .. } if code == "ACCESS_ERROR"));
        assert!(matches!(&o[2], Outcome::Done(Value::Bool(true))));
        assert!(matches!(&o[3], Outcome::NotRun(_)));
        let empty = parse_answer(json!({"result": [], "result_error": []}), 1);
        assert!(matches!(&empty[0], Outcome::NotRun(_)));
    }
}
