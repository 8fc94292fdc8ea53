//! Bearer tokens and their permissions (SPEC §3 step 2, CB-13).

use std::collections::{BTreeMap, BTreeSet};

use wfsim_engine::{IdGen, SimTime};

/// Sending a request to a callback endpoint.
pub const CALLBACKS_SEND: &str = "workflows.callbacks.send";
/// Creating, reading, listing and cancelling executions.
pub const EXECUTIONS: &str = "workflows.executions";
/// Minting a token for a service account (`generateAccessToken`).
pub const GET_ACCESS_TOKEN: &str = "iam.serviceAccounts.getAccessToken";
/// What the token printed at start holds.
pub const ALL: [&str; 3] = [CALLBACKS_SEND, EXECUTIONS, GET_ACCESS_TOKEN];

/// The longest lifetime `generateAccessToken` grants, as Google's does: 12 hours.
pub const LIFETIME_MAX_S: u64 = 43_200;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    principal: String,
    permissions: BTreeSet<String>,
    /// Server time after which the token is refused; `None` never expires.
    expires_at: Option<SimTime>,
}

/// Why a request's credentials are not enough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// 401: no token, an unknown one, or an expired one.
    Unauthenticated(String),
    /// 403: a valid token without the permission.
    PermissionDenied(String),
}

#[derive(Debug)]
pub struct Tokens {
    enabled: bool,
    ids: IdGen,
    tokens: BTreeMap<String, Token>,
    /// Permissions of each service account, from `--grant`.
    grants: BTreeMap<String, BTreeSet<String>>,
}

impl Tokens {
    /// `enabled: false` is `--no-auth`: every request is let through.
    pub fn new(enabled: bool, seed: u64, grants: BTreeMap<String, BTreeSet<String>>) -> Tokens {
        Tokens {
            enabled,
            ids: IdGen::with_stream(seed, 0x70_6b),
            tokens: BTreeMap::new(),
            grants,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// A token for `principal` with `permissions`, valid until `expires_at`.
    pub fn mint(
        &mut self,
        principal: &str,
        permissions: BTreeSet<String>,
        expires_at: Option<SimTime>,
    ) -> String {
        let token = format!("ya29.wfsim.{}", self.ids.uuid().replace('-', ""));
        self.tokens.insert(
            token.clone(),
            Token {
                principal: principal.to_owned(),
                permissions,
                expires_at,
            },
        );
        token
    }

    /// The permissions granted to service account `sa` (default: `workflows.callbacks.send`).
    pub fn granted_to(&self, sa: &str) -> BTreeSet<String> {
        self.grants
            .get(sa)
            .cloned()
            .unwrap_or_else(|| BTreeSet::from([CALLBACKS_SEND.to_owned()]))
    }

    /// Checks the `Authorization` header value for `permission` at server time `now`.
    pub fn check(
        &self,
        authorization: Option<&str>,
        permission: &str,
        now: SimTime,
    ) -> Result<(), Denied> {
        if !self.enabled {
            return Ok(());
        }
        let Some(value) = authorization else {
            return Err(Denied::Unauthenticated(
                "the request has no credentials; send 'Authorization: Bearer <access token>'"
                    .into(),
            ));
        };
        let Some(raw) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Err(Denied::Unauthenticated(
                "the Authorization header must be 'Bearer <access token>'".into(),
            ));
        };
        let Some(token) = self.tokens.get(raw.trim()) else {
            return Err(Denied::Unauthenticated(
                "the access token is not valid".into(),
            ));
        };
        if token.expires_at.is_some_and(|t| now >= t) {
            return Err(Denied::Unauthenticated(
                "the access token has expired; generate a new one".into(),
            ));
        }
        if !token.permissions.contains(permission) {
            return Err(Denied::PermissionDenied(format!(
                "'{}' lacks the permission '{permission}'",
                token.principal
            )));
        }
        Ok(())
    }
}

/// `--grant SA=PERM,PERM` into a map of service accounts to permissions.
pub fn parse_grant(text: &str) -> Result<(String, BTreeSet<String>), String> {
    let (sa, perms) = text
        .split_once('=')
        .ok_or_else(|| format!("--grant takes SA=PERMISSION[,PERMISSION…], got '{text}'"))?;
    if sa.is_empty() {
        return Err(format!("--grant: no service account in '{text}'"));
    }
    let perms: BTreeSet<String> = perms
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    Ok((sa.to_owned(), perms))
}

/// `"3600s"` or `"1.5s"` into seconds, at most [`LIFETIME_MAX_S`].
pub fn parse_lifetime(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .ok_or_else(|| {
            format!("lifetime must be a number of seconds like \"3600s\", got \"{text}\"")
        })?;
    if secs > LIFETIME_MAX_S as f64 {
        return Err(format!(
            "lifetime must be at most {LIFETIME_MAX_S}s, got \"{text}\""
        ));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_permission_and_expiry() {
        let mut t = Tokens::new(true, 0, BTreeMap::new());
        let perms = t.granted_to("sa@p.iam.gserviceaccount.com");
        let token = t.mint("sa", perms, Some(SimTime::from_secs(10)));
        let header = format!("Bearer {token}");
        assert_eq!(
            t.check(Some(&header), CALLBACKS_SEND, SimTime::from_secs(9)),
            Ok(())
        );
        assert!(matches!(
            t.check(Some(&header), EXECUTIONS, SimTime::ZERO),
            Err(Denied::PermissionDenied(_))
        ));
        assert!(
            matches!(t.check(Some(&header), CALLBACKS_SEND, SimTime::from_secs(10)), Err(Denied::Unauthenticated(m)) if m.contains("expired"))
        );
        assert!(matches!(
            t.check(None, CALLBACKS_SEND, SimTime::ZERO),
            Err(Denied::Unauthenticated(_))
        ));
        assert!(matches!(
            t.check(Some("Bearer nope"), CALLBACKS_SEND, SimTime::ZERO),
            Err(Denied::Unauthenticated(_))
        ));
        assert_eq!(
            Tokens::new(false, 0, BTreeMap::new()).check(None, EXECUTIONS, SimTime::ZERO),
            Ok(())
        );
    }

    #[test]
    fn grants_and_lifetimes() {
        let (sa, perms) =
            parse_grant("ci@p=workflows.callbacks.send, workflows.executions").unwrap();
        assert_eq!(sa, "ci@p");
        assert_eq!(perms.len(), 2);
        assert!(parse_grant("nothing").is_err());
        assert_eq!(parse_lifetime("3600s"), Ok(3600.0));
        assert!(parse_lifetime("3600").is_err());
        assert!(parse_lifetime("99999s").is_err());
    }
}
