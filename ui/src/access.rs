//! Who may use the UI (SPEC UI-1, UI-2). With auth on, the start-up lines print a link
//! carrying a secret; opening it sets an HttpOnly, SameSite=Strict cookie holding it, and
//! every other page asks for that cookie (401 with a page saying how to get the link
//! otherwise). Every form carries a token the pages write and an attacker's page cannot
//! read, and a POST must name this server as its Origin when the browser sends one.
//!
//! **Decision:** both are derived from the server's own token (SHA-256 with a label each),
//! not drawn: they are as unguessable as the token, a `--seed` gives the same link again,
//! and nothing unseeded reaches output. Under `--no-auth` there is no secret (the
//! `--bind` rule of the API still applies, checked at start) and the form token is derived
//! from the seed.

use sha2::{Digest, Sha256};
use wfsim_server::ApiRequest;

/// The cookie's name.
pub const COOKIE: &str = "wfsim_ui";

/// The UI's secrets for one server.
#[derive(Clone)]
pub struct Access {
    /// What the link carries and the cookie holds; `None` under `--no-auth`.
    secret: Option<String>,
    /// Every form's hidden `csrf` field.
    csrf: String,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("auth", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

fn derive(label: &str, from: &str) -> String {
    let digest = Sha256::new()
        .chain_update(label.as_bytes())
        .chain_update([0])
        .chain_update(from.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Access {
    /// With auth, from the server's token (`token`); without (`None`), from the seed.
    pub fn new(token: Option<&str>, seed: u64) -> Access {
        match token {
            Some(t) => Access {
                secret: Some(derive("wfsim ui link", t)),
                csrf: derive("wfsim ui form", t),
            },
            None => Access {
                secret: None,
                csrf: derive("wfsim ui form, no auth", &seed.to_string()),
            },
        }
    }

    /// The link a person opens: `BASE/ui/login?key=SECRET`, or `BASE/ui/` without auth.
    pub fn link(&self, base_url: &str) -> String {
        match &self.secret {
            Some(s) => format!("{base_url}/ui/login?key={s}"),
            None => format!("{base_url}/ui/"),
        }
    }

    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether `key` is the link's secret; `None` when there is none (no auth).
    pub fn opens(&self, key: &str) -> Option<bool> {
        self.secret.as_deref().map(|s| same(s, key))
    }

    /// The `Set-Cookie` value that opens the UI, if there is a secret.
    pub fn cookie(&self) -> Option<String> {
        self.secret
            .as_ref()
            .map(|s| format!("{COOKIE}={s}; Path=/ui; HttpOnly; SameSite=Strict"))
    }

    /// Whether `req` may see the UI: no auth, or the cookie holds the secret.
    pub fn allows(&self, req: &ApiRequest) -> bool {
        let Some(secret) = &self.secret else {
            return true;
        };
        req.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && same(v, secret))
    }

    /// Why a form's POST is refused, if it is: a token other than the page's, or an
    /// `Origin` other than the `Host` it was sent to.
    pub fn forged(&self, req: &ApiRequest, token: Option<&str>) -> Option<&'static str> {
        if !token.is_some_and(|t| same(t, &self.csrf)) {
            return Some(
                "the form's token is missing or not this server's: reload the page and send it again",
            );
        }
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        if let (Some(origin), Some(host)) = (header("origin"), header("host")) {
            let origin = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            if origin != Some(host) {
                return Some("the form was sent from another site (its Origin is not this server)");
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(headers: &[(&str, &str)]) -> ApiRequest {
        ApiRequest {
            method: "POST".into(),
            path: "/ui/clock".into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..ApiRequest::default()
        }
    }

    #[test]
    fn ui_1_the_cookie_opens_the_ui_and_nothing_else_does() {
        let a = Access::new(Some("tok"), 1);
        let link = a.link("http://127.0.0.1:1");
        let key = link.split("key=").nth(1).unwrap();
        assert_eq!(a.opens(key), Some(true));
        assert_eq!(a.opens("0123"), Some(false));
        assert!(a.allows(&with(&[("cookie", &format!("x=1; {COOKIE}={key}"))])));
        assert!(!a.allows(&with(&[("cookie", &format!("{COOKIE}=nope"))])));
        assert!(!a.allows(&with(&[])));
        let cookie = a.cookie().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        // Another token, another secret; no auth, no secret and an open UI.
        assert_ne!(Access::new(Some("other"), 1).link(""), a.link(""));
        assert!(Access::new(None, 1).allows(&with(&[])));
        assert_eq!(Access::new(None, 1).opens(key), None);
    }

    #[test]
    fn ui_2_a_form_needs_the_pages_token_and_this_origin() {
        let a = Access::new(Some("tok"), 1);
        let host = [("host", "127.0.0.1:9"), ("origin", "http://127.0.0.1:9")];
        assert_eq!(a.forged(&with(&host), Some(a.csrf())), None);
        assert!(a.forged(&with(&host), None).is_some());
        assert!(a.forged(&with(&host), Some("guess")).is_some());
        let elsewhere = [("host", "127.0.0.1:9"), ("origin", "http://evil.example")];
        assert!(a.forged(&with(&elsewhere), Some(a.csrf())).is_some());
        // No Origin (an old browser, or a form posted by curl): the token alone decides.
        assert_eq!(a.forged(&with(&host[..1]), Some(a.csrf())), None);
    }
}
