//! gRPC beside REST on the same port: `google.cloud.workflows.executions.v1.Executions`,
//! `google.cloud.workflows.v1.Workflows` and `google.longrunning.Operations/GetOperation`.
//!
//! Each call is transcoded to the REST request its `google.api.http` annotation names, the
//! API answers it as it answers REST (one rule in one place: auth, checks, the input log),
//! and the JSON answer is converted back to the call's response message. What each method
//! is (its name, request and response message) is its route's gRPC twin, in the routes'
//! table (`api/routes.rs`); the messages are `proto.rs`. No I/O here: `http.rs` reads the
//! HTTP/2 request and writes the framed answer and its trailers.

use serde_json::Value as Json;

use crate::api::ROUTES;
use crate::message::{ApiRequest, ApiResponse};
pub use crate::proto::{Call, Status};

/// The messages of the vendored API definitions (`proto/`), for clients.
pub mod proto {
    pub use crate::proto::google;
}

impl Status {
    /// The status a REST error answer stands for: its `error.status` names the code.
    fn of_rest(res: &ApiResponse) -> Status {
        let body: Json = serde_json::from_slice(&res.body).unwrap_or(Json::Null);
        let error = &body["error"];
        let code = match error["status"].as_str().unwrap_or("") {
            "CANCELLED" => 1,
            "INVALID_ARGUMENT" => 3,
            "DEADLINE_EXCEEDED" => 4,
            "NOT_FOUND" => 5,
            "ALREADY_EXISTS" => 6,
            "PERMISSION_DENIED" => 7,
            "RESOURCE_EXHAUSTED" => 8,
            "FAILED_PRECONDITION" => 9,
            "ABORTED" => 10,
            "UNIMPLEMENTED" => 12,
            "UNAVAILABLE" => 14,
            "UNAUTHENTICATED" => 16,
            _ => 13,
        };
        let message = error["message"].as_str().map_or_else(
            || String::from_utf8_lossy(&res.body).into_owned(),
            str::to_owned,
        );
        Status::new(code, message)
    }
}

/// The gRPC message in a request body: one length-prefixed, uncompressed message.
pub fn unframe(body: &[u8]) -> Result<&[u8], Status> {
    let Some((&[flag, a, b, c, d], rest)) = body.split_first_chunk::<5>() else {
        return Err(Status::new(3, "the request has no gRPC message"));
    };
    if flag != 0 {
        return Err(Status::new(
            12,
            "compressed messages are not supported by wfsim; send them uncompressed",
        ));
    }
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    if rest.len() != len {
        return Err(Status::new(
            3,
            format!("the gRPC message says {len} bytes but {} came", rest.len()),
        ));
    }
    Ok(rest)
}

/// A message as a gRPC body: the length prefix and the bytes.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 5);
    out.push(0);
    out.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(message);
    out
}

/// The REST request a gRPC call stands for, and the response message it wants.
pub fn transcode(path: &str, message: &[u8]) -> Result<(Call, ApiRequest), Status> {
    let (route, twin) = ROUTES
        .iter()
        .find_map(|r| Some((r, r.grpc.as_ref().filter(|t| t.name == path)?)))
        .ok_or_else(|| Status::new(12, format!("wfsim does not serve the gRPC method {path}")))?;
    Ok((
        twin.response,
        (twin.request)(message)?.request(route.method),
    ))
}

/// The response message for `call` from the API's REST answer, or the status it stands for.
pub fn answer(call: Call, res: &ApiResponse) -> Result<Vec<u8>, Status> {
    if res.status != 200 {
        return Err(Status::of_rest(res));
    }
    let body: Json = serde_json::from_slice(&res.body)
        .map_err(|e| Status::new(13, format!("wfsim answered with JSON it cannot read: {e}")))?;
    Ok(call.encode(&body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ex;
    use prost::Message;

    #[test]
    fn frames_round_trip_and_bad_ones_are_named() {
        let framed = frame(b"abc");
        assert_eq!(framed, [0, 0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(unframe(&framed), Ok(&b"abc"[..]));
        assert_eq!(unframe(&[0, 0, 0]).unwrap_err().code, 3);
        assert_eq!(unframe(&[1, 0, 0, 0, 0]).unwrap_err().code, 12);
        assert_eq!(unframe(&[0, 0, 0, 0, 9, 1]).unwrap_err().code, 3);
    }

    #[test]
    fn calls_are_transcoded_as_their_http_annotations_say() {
        let get = ex::GetExecutionRequest {
            name: "projects/p/locations/l/workflows/w/executions/e".into(),
            view: 1,
        };
        let (call, req) = transcode(
            "/google.cloud.workflows.executions.v1.Executions/GetExecution",
            &get.encode_to_vec(),
        )
        .unwrap();
        assert_eq!(call, Call::Execution);
        assert_eq!(req.method, "GET");
        assert_eq!(
            req.path,
            "/v1/projects/p/locations/l/workflows/w/executions/e"
        );
        assert_eq!(req.query, "view=1&%24alt=json%3Benum-encoding%3Dint");
        let err = transcode("/google.cloud.workflows.v1.Workflows/Nope", &[]).unwrap_err();
        assert_eq!(err.code, 12);
    }

    #[test]
    fn rest_errors_become_statuses() {
        let res = ApiResponse::error(404, "NOT_FOUND", "no such execution");
        assert_eq!(
            answer(Call::Execution, &res),
            Err(Status::new(5, "no such execution"))
        );
        let res = ApiResponse::error(409, "ALREADY_EXISTS", "taken");
        assert_eq!(answer(Call::Operation, &res).unwrap_err().code, 6);
    }
}
