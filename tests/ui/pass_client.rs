// Any type implementing `b24_core::Call` can be the `client` of `generate!`: its methods
// build the request and send it through the trait.
use std::future::Future;
use std::task::{Context, Poll, Waker};

use b24_core::{Call, Error, Method};

b24_macros::generate!(spec = "specs/minimal", base = file, client = Canned);

/// Answers every call with the same envelope, after checking the request it was given.
struct Canned;

impl Call for Canned {
    fn call<M: Method>(
        &self,
        request: &M,
    ) -> impl Future<Output = Result<M::Output, Error<M::ErrorCode>>> + Send {
        assert_eq!(M::NAME, "imopenlines.thing.get");
        assert_eq!(request.params()["ID"], 5);
        let answer = b24_core::decode_response(
            M::NAME,
            200,
            Some("application/json"),
            br#"{"result": {"id": "7"}}"#,
        );
        async move { answer.map(|envelope| envelope.result) }
    }
}

fn main() {
    let call = Canned.thing_get(imopenlines::thing_get::Request::new(5));
    let mut call = std::pin::pin!(call);
    let Poll::Ready(Ok(thing)) = call.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the canned answer is ready and decodes");
    };
    assert_eq!(thing.id, 7);
}
