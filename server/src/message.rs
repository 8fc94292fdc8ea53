//! The API's request and response as plain data: what the hyper glue (`http.rs`) and the
//! gRPC transcoder hand to the routes and get back, and what the input log keeps. Below
//! the routes, so everything that reads or writes them depends down.

use std::borrow::Cow;

use serde_json::{Value as Json, json};

use crate::auth::Denied;

/// An HTTP request, as the glue read it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// At most 512 KiB and one byte: enough to tell a body over the limit.
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    /// Names and values borrowed when fixed (`Content-Type: application/json`, on nearly
    /// every answer): two allocations fewer an answer than owned strings.
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: Vec<u8>,
}

/// `Content-Type: application/json`, the header of every JSON answer.
const JSON_CONTENT_TYPE: (Cow<'static, str>, Cow<'static, str>) = (
    Cow::Borrowed("Content-Type"),
    Cow::Borrowed("application/json"),
);

impl ApiResponse {
    pub(crate) fn json(status: u16, body: &Json) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![JSON_CONTENT_TYPE],
            body: serde_json::to_vec_pretty(body).unwrap_or_default(),
        }
    }

    /// 200 with the empty object, the answer to every callback request the slot rule
    /// accepts (CB-13): the bytes `json(200, &json!({}))` renders, written without building
    /// and pretty-printing a map per request.
    pub(crate) fn empty_object() -> ApiResponse {
        ApiResponse {
            status: 200,
            headers: vec![JSON_CONTENT_TYPE],
            body: b"{}".to_vec(),
        }
    }

    /// The Google API error shape of CB-13: `{"error": {"code", "status", "message"}}`.
    pub fn error(code: u16, status: &str, message: impl Into<String>) -> ApiResponse {
        ApiResponse::json(
            code,
            &json!({"error": {"code": code, "status": status, "message": message.into()}}),
        )
    }

    pub(crate) fn denied(d: Denied) -> ApiResponse {
        match d {
            Denied::Unauthenticated(m) => ApiResponse::error(401, "UNAUTHENTICATED", m),
            Denied::PermissionDenied(m) => ApiResponse::error(403, "PERMISSION_DENIED", m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_object_is_what_json_renders() {
        assert_eq!(
            ApiResponse::empty_object(),
            ApiResponse::json(200, &json!({}))
        );
    }
}
