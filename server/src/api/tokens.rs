//! `POST /v1/projects/-/serviceAccounts/SA:generateAccessToken`: the IAM Credentials call
//! that mints a token with the permissions `--grant` gave the account.

use serde_json::{Value as Json, json};
use wfsim_engine::SimTime;

use super::State;
use super::body::optional_field;
use crate::auth;
use crate::message::ApiResponse;

impl State {
    pub(super) fn generate_token(
        &mut self,
        now: SimTime,
        account: &str,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        let lifetime = match optional_field(body, "lifetime", r#"{"lifetime": "3600s"}"#)? {
            None => 3600.0,
            Some(Json::String(s)) => auth::parse_lifetime(&s)
                .map_err(|m| ApiResponse::error(400, "INVALID_ARGUMENT", m))?,
            Some(_) => {
                return Err(ApiResponse::error(
                    400,
                    "INVALID_ARGUMENT",
                    "'lifetime' is a string like \"3600s\"",
                ));
            }
        };
        let expires = now.saturating_add(std::time::Duration::from_secs_f64(lifetime));
        let perms = self.tokens.granted_to(account);
        let token = self.tokens.mint(account, perms, Some(expires));
        Ok(ApiResponse::json(
            200,
            &json!({"accessToken": token, "expireTime": self.host.wall(expires)}),
        ))
    }
}
