//! Error answers: `error`, `error_description` and the HTTP status; the portal-wide codes
//! come from b24-core's [`PortalErrorCode`].

use b24_core::PortalErrorCode;
use b24_spec::{Spec, WRONG_AUTH_TYPE};
use serde_json::{Map, Value};

/// An error answer: HTTP status, `error`, `error_description`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiErr {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ApiErr {
    pub(crate) fn new(status: u16, code: &str, message: &str) -> Self {
        ApiErr {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), Value::String(self.code.clone()));
        m.insert(
            "error_description".into(),
            Value::String(self.message.clone()),
        );
        Value::Object(m)
    }
}

/// A portal-wide error: b24-core's code, documented status and default description.
pub(crate) fn portal_error(code: PortalErrorCode) -> ApiErr {
    ApiErr::new(
        code.documented_status(),
        code.as_str(),
        code.default_description(),
    )
}

/// The error for a code named in the configuration or a request (`MOCK_ERROR_PARAM`): a
/// portal-wide one by its code (any case), else a 400 with that code.
pub(crate) fn portal_error_named(code: &str) -> ApiErr {
    PortalErrorCode::parse(code)
        .map(portal_error)
        .unwrap_or_else(|| ApiErr::new(400, code, "Error triggered by the mock portal"))
}

/// `WRONG_AUTH_TYPE`: a method for applications called with a webhook (or a token of no
/// application), in the rest module's words.
pub(crate) fn wrong_auth_type() -> ApiErr {
    ApiErr::new(
        403,
        WRONG_AUTH_TYPE,
        "Current authorization type is denied for this method",
    )
}

/// `WRONG_AUTH_TYPE` of a method with `auth = "application"`: the status and message of the
/// spec's own `[[errors]]` entry of that code (the custom connectors add "Application context
/// required"), else [`wrong_auth_type`].
pub(crate) fn wrong_auth_type_of(spec: &Spec) -> ApiErr {
    match spec.error(WRONG_AUTH_TYPE) {
        Some(e) => ApiErr {
            status: e.status,
            code: e.code.clone(),
            message: e
                .message
                .clone()
                .unwrap_or_else(|| wrong_auth_type().message),
        },
        None => wrong_auth_type(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_codes_are_b24_cores_in_any_case() {
        let e = portal_error_named("query_limit_exceeded");
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
        );
        let e = portal_error_named("MY_OWN");
        assert_eq!((e.status, e.code.as_str()), (400, "MY_OWN"));
        for code in PortalErrorCode::ALL {
            assert_eq!(portal_error_named(code.as_str()), portal_error(*code));
        }
    }
}
