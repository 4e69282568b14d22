// The `client` of `generate!` must implement `b24_core::Call`: a type without it is refused
// where it is named, once, rather than with an error per generated method.
pub struct NotAClient;

impl NotAClient {
    // An inherent `call` is not the contract.
    pub async fn call<M: b24_core::Method>(&self, _request: &M) {}
}

b24_macros::generate!(spec = "specs/minimal", base = file, client = NotAClient);

fn main() {}
