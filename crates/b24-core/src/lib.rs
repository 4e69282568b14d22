//! What generated Bitrix24 REST code needs at run time.
//!
//! * [`Method`] ties a generated request to its REST name, its typed result and its error
//!   codes.
//! * [`lenient`] decodes the portal's JSON quirks (ids as strings, `Y`/`N` booleans, `[]` for
//!   empty objects, `""` for "none") without giving up on real mismatches.
//! * [`decode_response`] turns an HTTP answer into an [`Envelope`] or a typed [`Error`].
//! * [`event`] verifies and decodes the events the portal posts to a handler.
//! * [`php`] reads and writes PHP-style form bodies (`FIELDS[NAME]=x`).
//!
//! This crate does no I/O; `b24-runtime` sends the requests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod envelope;
mod error;
pub mod event;
pub mod lenient;
mod method;
pub mod php;
mod redact;
mod secret;
mod token_refresh;
mod unknown;

pub use envelope::{
    decode_json, decode_response, decode_response_redacted, decode_value, DecodeError, Envelope,
    Time, EXCERPT_CHARS,
};
pub use error::{
    ApiError, ApiErrorCode, Error, MethodErrorCode, PortalErrorCode, TransportPhase,
    UndocumentedCode,
};
pub use lenient::Lenient;
pub use method::{Call, Example, Method, MethodKind, MethodVisitor, PagedMethod, ToParam};
pub use redact::{Redactor, REDACTED};
pub use secret::Secret;
pub use token_refresh::{LimiterError, TokenRefreshError};
pub use unknown::UnknownValue;

/// Re-exports for generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use indexmap;
    pub use serde;
    pub use serde_json;

    pub use crate::lenient::{
        deserialize, empty_map, expect_empty_seq, field_index_ignore_case, Key, Lenient, Seed,
    };
    pub use crate::unknown::unknown_value;
}
