//! Bearer tokens and their permissions (SPEC §3 step 2, CB-13).
//!
//! Permissions carry IAM's own names (the roles/workflows.* permissions), so a `--grant`
//! reads like the IAM policy it stands in for; the clock API, wfsim's own, has a
//! `wfsim.` one.

use std::collections::{BTreeMap, BTreeSet};

use wfsim_engine::{IdGen, SimTime};

/// Sending a request to a callback endpoint.
pub const CALLBACKS_SEND: &str = "workflows.callbacks.send";
pub const EXECUTIONS_CREATE: &str = "workflows.executions.create";
/// Reading an execution, its callbacks and its logs.
pub const EXECUTIONS_GET: &str = "workflows.executions.get";
pub const EXECUTIONS_LIST: &str = "workflows.executions.list";
pub const EXECUTIONS_CANCEL: &str = "workflows.executions.cancel";
pub const WORKFLOWS_CREATE: &str = "workflows.workflows.create";
pub const WORKFLOWS_GET: &str = "workflows.workflows.get";
pub const WORKFLOWS_LIST: &str = "workflows.workflows.list";
pub const WORKFLOWS_UPDATE: &str = "workflows.workflows.update";
pub const WORKFLOWS_DELETE: &str = "workflows.workflows.delete";
/// Reading a long-running operation of the Workflows API.
pub const OPERATIONS_GET: &str = "workflows.operations.get";
/// Minting a token for a service account (`generateAccessToken`).
pub const GET_ACCESS_TOKEN: &str = "iam.serviceAccounts.getAccessToken";
/// Moving a manual or auto clock (`/v1/wfsim/clock:advance`): wfsim's own.
pub const CLOCK_ADVANCE: &str = "wfsim.clock.advance";
/// Every permission there is: what the token printed at start holds, and all that
/// `--grant` accepts.
pub const ALL: [&str; 13] = [
    CALLBACKS_SEND,
    EXECUTIONS_CREATE,
    EXECUTIONS_GET,
    EXECUTIONS_LIST,
    EXECUTIONS_CANCEL,
    WORKFLOWS_CREATE,
    WORKFLOWS_GET,
    WORKFLOWS_LIST,
    WORKFLOWS_UPDATE,
    WORKFLOWS_DELETE,
    OPERATIONS_GET,
    GET_ACCESS_TOKEN,
    CLOCK_ADVANCE,
];

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

/// The id stream a workload token's secret is drawn from (one per service account).
const STREAM_WORKLOAD_TOKENS: u64 = 0x5A_70_6B;
/// What a workload token starts with: the service account (hex) and its secret follow.
const WORKLOAD_PREFIX: &str = "ya29.wfsim.sa.";

#[derive(Debug)]
pub struct Tokens {
    enabled: bool,
    seed: u64,
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
            seed,
            ids: IdGen::with_stream(seed, IdGen::STREAM_TOKENS),
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

    /// Registers `token` as one with every permission, never expiring (`--token`).
    pub fn adopt_master(&mut self, token: &str) {
        self.tokens.insert(
            token.to_owned(),
            Token {
                principal: "wfsim-admin".to_owned(),
                permissions: ALL.iter().map(|p| p.to_string()).collect(),
                expires_at: None,
            },
        );
    }

    /// The token a workflow running as `sa` sends with `auth: {type: OAuth2}` to this
    /// server (HT-12): derived from the seed and `sa`, not drawn from the token stream, so
    /// minting one is no input, and a replay of the log, which holds requests carrying it,
    /// accepts it again.
    pub fn workload_token(&self, sa: &str) -> String {
        let hex: String = sa.bytes().map(|b| format!("{b:02x}")).collect();
        format!("{WORKLOAD_PREFIX}{hex}.{}", self.workload_secret(sa))
    }

    fn workload_secret(&self, sa: &str) -> String {
        // FNV-1a of the account, so each account's secret comes from a stream of its own.
        let hash = sa.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        IdGen::with_stream(self.seed ^ hash, STREAM_WORKLOAD_TOKENS)
            .uuid()
            .replace('-', "")
    }

    /// The workload token `raw` stands for, if it is one this server derived.
    fn workload(&self, raw: &str) -> Option<Token> {
        let (hex, secret) = raw.strip_prefix(WORKLOAD_PREFIX)?.split_once('.')?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let sa = String::from_utf8(bytes).ok()?;
        (self.workload_secret(&sa) == secret).then(|| Token {
            permissions: self.granted_to(&sa),
            principal: sa,
            expires_at: None,
        })
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
        // The scheme is case-insensitive (RFC 9110 §11.1): `BEARER x` is `Bearer x`.
        let raw = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token);
        let Some(raw) = raw else {
            return Err(Denied::Unauthenticated(
                "the Authorization header must be 'Bearer <access token>'".into(),
            ));
        };
        let workload = self.workload(raw.trim());
        let Some(token) = self.tokens.get(raw.trim()).or(workload.as_ref()) else {
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
    if let Some(unknown) = perms.iter().find(|p| !ALL.contains(&p.as_str())) {
        return Err(format!(
            "--grant: '{unknown}' is not a permission wfsim knows; the permissions are {}",
            ALL.join(", ")
        ));
    }
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
            t.check(Some(&header), EXECUTIONS_GET, SimTime::ZERO),
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
        for scheme in ["bearer", "BEARER", "beaRer"] {
            let header = format!("{scheme} {token}");
            assert_eq!(
                t.check(Some(&header), CALLBACKS_SEND, SimTime::ZERO),
                Ok(()),
                "{scheme}"
            );
        }
        assert!(matches!(
            t.check(
                Some(&format!("Basic {token}")),
                CALLBACKS_SEND,
                SimTime::ZERO
            ),
            Err(Denied::Unauthenticated(_))
        ));
        t.adopt_master("given");
        assert_eq!(
            t.check(
                Some("Bearer given"),
                CLOCK_ADVANCE,
                SimTime::from_secs(1 << 40)
            ),
            Ok(())
        );
        assert_eq!(
            Tokens::new(false, 0, BTreeMap::new()).check(None, EXECUTIONS_GET, SimTime::ZERO),
            Ok(())
        );
    }

    #[test]
    fn grants_and_lifetimes() {
        let (sa, perms) =
            parse_grant("ci@p=workflows.callbacks.send, workflows.executions.get").unwrap();
        assert_eq!(sa, "ci@p");
        assert_eq!(perms.len(), 2);
        assert!(parse_grant("nothing").is_err());
        let made_up = parse_grant("ci@p=workflows.executions").unwrap_err();
        assert!(
            made_up.contains("'workflows.executions' is not a permission"),
            "{made_up}"
        );
        assert_eq!(parse_lifetime("3600s"), Ok(3600.0));
        assert!(parse_lifetime("3600").is_err());
        assert!(parse_lifetime("99999s").is_err());
    }
}
