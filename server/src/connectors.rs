//! Connectors to Google's local emulators (HT-11): a `googleapis.<service>.<version>.…` call
//! of live mode goes, when that service's emulator variable is set, to the emulator as the
//! REST request Google's discovery document describes for the method.
//!
//! The table is `discovery/methods.json`, extracted from the discovery documents (see
//! `discovery/PROVENANCE.md`), so a further method or service is a row, not code. Sans I/O:
//! [`Emulators::request`] builds the request, `client.rs` sends it, and the engine makes the
//! answer the connector's result (its body) or its `HttpError` (`{code, message, headers,
//! body}`), as HT-3 does for every connector.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Map, Value as Json};
use wfsim_engine::Value;
use wfsim_engine::http::{HttpOutcome, HttpResponse, OutboundRequest};

/// The discovery extract, as committed.
const METHODS_JSON: &str = include_str!("../discovery/methods.json");

/// Each emulated service and the variable Google's client libraries read its host from.
pub const EMULATOR_VARIABLES: [(&str, &str); 3] = [
    ("datastore", "DATASTORE_EMULATOR_HOST"),
    ("firestore", "FIRESTORE_EMULATOR_HOST"),
    ("pubsub", "PUBSUB_EMULATOR_HOST"),
];

/// One method of the table: how its arguments become a REST request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    pub http_method: String,
    /// The discovery path, `v1/{+name}:publish`, relative to the service's root.
    pub path: String,
    /// Parameter name (dotted, `updateMask.fieldPaths`) to whether it goes in the path.
    pub params: BTreeMap<String, Param>,
    /// Whether the method takes a request body (the `body` argument).
    pub request: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub in_path: bool,
    pub repeated: bool,
    pub required: bool,
}

/// The table: `firestore.v1` → method id (`firestore.projects.databases.documents.get`) →
/// [`Method`].
pub type Table = BTreeMap<String, BTreeMap<String, Method>>;

/// The committed table, parsed once.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(METHODS_JSON).expect("discovery/methods.json is valid"))
}

fn parse_table(text: &str) -> Result<Table, String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut table = Table::new();
    for (service, body) in doc.as_object().ok_or("not an object")? {
        let methods = body["methods"].as_object().ok_or("no methods")?;
        let mut out = BTreeMap::new();
        for (id, m) in methods {
            let mut params = BTreeMap::new();
            for (name, p) in m["parameters"].as_object().into_iter().flatten() {
                params.insert(
                    name.clone(),
                    Param {
                        in_path: p["location"] == "path",
                        repeated: p["repeated"] == true,
                        required: p["required"] == true,
                    },
                );
            }
            out.insert(
                id.clone(),
                Method {
                    http_method: m["httpMethod"].as_str().ok_or("no httpMethod")?.to_owned(),
                    path: m["path"].as_str().ok_or("no path")?.to_owned(),
                    params,
                    request: m["request"] == true,
                },
            );
        }
        table.insert(service.clone(), out);
    }
    Ok(table)
}

/// Where each emulated service answers: `--services` stubs come first, then these, then
/// the clear refusal of a connector live mode cannot reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emulators {
    /// Service (`firestore`) to `host:port`.
    pub hosts: BTreeMap<String, String>,
}

impl Emulators {
    /// The emulators named by the variables of [`EMULATOR_VARIABLES`], read through `var`
    /// (the process's environment in `wfsim serve`); an empty value is unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Emulators {
        let hosts = EMULATOR_VARIABLES
            .iter()
            .filter_map(|(service, name)| {
                var(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| ((*service).to_owned(), v.trim().to_owned()))
            })
            .collect();
        Emulators { hosts }
    }

    /// The request connector `name` with `args` sends to its service's emulator; `None`
    /// when no emulator is set for the service (the caller fails the call as before);
    /// `Err` an answer to give without sending (an unknown method, a bad argument), in the
    /// shape Google's API gives it (400 `INVALID_ARGUMENT`).
    pub fn request(
        &self,
        name: &str,
        args: &Value,
    ) -> Option<Result<OutboundRequest, HttpOutcome>> {
        let mut parts = name.strip_prefix("googleapis.")?.splitn(3, '.');
        let (service, version, rest) = (parts.next()?, parts.next()?, parts.next()?);
        let host = self.hosts.get(service)?;
        let key = format!("{service}.{version}");
        let Some(method) = table()
            .get(&key)
            .and_then(|m| m.get(&format!("{service}.{rest}")))
        else {
            return Some(Err(invalid(format!(
                "{name}: wfsim's connector table (server/discovery/methods.json) has no such \
                 method of {key}"
            ))));
        };
        Some(build(name, host, method, args).map_err(invalid))
    }
}

/// A 400 `INVALID_ARGUMENT` answer with `message`, in Google's error shape.
fn invalid(message: String) -> HttpOutcome {
    let body = serde_json::json!({"error": {
        "code": 400, "status": "INVALID_ARGUMENT", "message": message,
    }});
    HttpOutcome::Response(HttpResponse {
        status: 400,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}

/// The arguments flattened to the discovery's dotted names: `updateMask: {fieldPaths: […]}`
/// is `updateMask.fieldPaths`, as the connector reference lists them.
fn flatten(prefix: &str, v: &Json, out: &mut BTreeMap<String, Json>) {
    match v {
        Json::Object(m) if !prefix.is_empty() && !m.is_empty() => {
            for (k, v) in m {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        _ => {
            out.insert(prefix.to_owned(), v.clone());
        }
    }
}

fn text(name: &str, v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "argument '{name}' must be a string, a number or a boolean, got {other}"
        )),
    }
}

fn build(name: &str, host: &str, method: &Method, args: &Value) -> Result<OutboundRequest, String> {
    let args = match args {
        Value::Null => Json::Object(Map::new()),
        v => v
            .to_json()
            .map_err(|e| format!("{name}: args cannot be sent as JSON: {e}"))?,
    };
    let Json::Object(given) = args else {
        return Err(format!("{name}: args must be a map"));
    };
    let mut body = None;
    let mut flat = BTreeMap::new();
    for (k, v) in &given {
        match k.as_str() {
            "body" => body = Some(v.clone()),
            // Connector settings, not the method's (HT-6).
            "connector_params" => {}
            _ => flatten(k, v, &mut flat),
        }
    }
    for k in flat.keys() {
        if !method.params.contains_key(k) {
            let known: Vec<&str> = method.params.keys().map(String::as_str).collect();
            return Err(format!(
                "{name}: no argument '{k}'; it takes {} and body",
                known.join(", ")
            ));
        }
    }
    let mut path = String::new();
    let mut rest = method.path.as_str();
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("{name}: bad path template {}", method.path))?;
        let var = &rest[open + 1..close];
        let (reserved, var) = match var.strip_prefix('+') {
            Some(v) => (true, v),
            None => (false, var),
        };
        let value = flat
            .remove(var)
            .ok_or_else(|| format!("{name} needs argument '{var}'"))?;
        let value = text(var, &value)?;
        path.push_str(&encode(&value, reserved));
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    for (k, p) in &method.params {
        if p.required && !p.in_path && !flat.contains_key(k) {
            return Err(format!("{name} needs argument '{k}'"));
        }
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &flat {
        match v {
            Json::Null => {}
            Json::Array(items) => {
                for item in items {
                    query.append_pair(k, &text(k, item)?);
                }
            }
            v => {
                query.append_pair(k, &text(k, v)?);
            }
        }
    }
    let query = query.finish();
    let mut url = format!("http://{host}/{path}");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    let mut headers = Vec::new();
    let body = match body {
        Some(b) if method.request => {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            serde_json::to_vec(&b).map_err(|e| e.to_string())?
        }
        Some(_) => return Err(format!("{name} takes no body")),
        None if method.request => {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            b"{}".to_vec()
        }
        None => Vec::new(),
    };
    Ok(OutboundRequest {
        method: method.http_method.clone(),
        url,
        headers,
        body,
    })
}

/// A path variable percent-encoded: `{+name}` keeps `/` and the reserved characters (RFC
/// 6570 reserved expansion), `{name}` encodes all but the unreserved ones.
fn encode(value: &str, reserved: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~".contains(&b)
            || (reserved && b"/:@!$&'()*+,;=".contains(&b));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Methods mapped per service (`firestore.v1` → count), for the coverage a test prints.
pub fn coverage() -> BTreeMap<String, usize> {
    table().iter().map(|(s, m)| (s.clone(), m.len())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emulators() -> Emulators {
        Emulators::from_vars(|v| match v {
            "FIRESTORE_EMULATOR_HOST" => Some("127.0.0.1:8081".into()),
            "PUBSUB_EMULATOR_HOST" => Some("127.0.0.1:8085".into()),
            "DATASTORE_EMULATOR_HOST" => Some(" ".into()),
            _ => None,
        })
    }

    fn args(json: Json) -> Value {
        Value::from_json(&json)
    }

    fn built(name: &str, a: Json) -> OutboundRequest {
        emulators()
            .request(name, &args(a))
            .expect("routed")
            .expect("valid")
    }

    #[test]
    fn the_coverage_of_the_table_is_printed_per_service() {
        let cov = coverage();
        for (service, n) in &cov {
            println!("connector table: {service}: {n} methods mapped");
        }
        assert_eq!(
            cov.keys().collect::<Vec<_>>(),
            ["datastore.v1", "firestore.v1", "pubsub.v1"]
        );
        assert!(cov.values().all(|&n| n >= 18), "{cov:?}");
    }

    #[test]
    fn a_firestore_patch_puts_the_name_in_the_path_and_the_mask_in_the_query() {
        let r = built(
            "googleapis.firestore.v1.projects.databases.documents.patch",
            serde_json::json!({
                "name": "projects/p/databases/(default)/documents/callbacks/topic x",
                "updateMask": {"fieldPaths": ["exec_a", "b"]},
                "body": {"fields": {"exec_a": {"stringValue": "u"}}},
            }),
        );
        assert_eq!(r.method, "PATCH");
        assert_eq!(
            r.url,
            "http://127.0.0.1:8081/v1/projects/p/databases/(default)/documents/callbacks/topic%20x?updateMask.fieldPaths=exec_a&updateMask.fieldPaths=b"
        );
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            r#"{"fields":{"exec_a":{"stringValue":"u"}}}"#
        );
    }

    #[test]
    fn a_get_sends_no_body_and_a_publish_an_empty_map_when_none_is_given() {
        let r = built(
            "googleapis.firestore.v1.projects.databases.documents.get",
            serde_json::json!({"name": "projects/p/databases/(default)/documents/c/d"}),
        );
        assert_eq!((r.method.as_str(), r.body.len()), ("GET", 0));
        let r = built(
            "googleapis.pubsub.v1.projects.topics.publish",
            serde_json::json!({"topic": "projects/p/topics/t"}),
        );
        assert_eq!(
            r.url,
            "http://127.0.0.1:8085/v1/projects/p/topics/t:publish"
        );
        assert_eq!(r.body, b"{}");
    }

    #[test]
    fn a_service_without_an_emulator_is_not_routed() {
        let e = emulators();
        let a = args(serde_json::json!({"projectId": "p"}));
        assert!(
            e.request("googleapis.datastore.v1.projects.lookup", &a)
                .is_none()
        );
        assert!(e.request("googleapis.storage.v1.objects.get", &a).is_none());
        assert!(e.request("http.get", &a).is_none());
    }

    #[test]
    fn bad_arguments_are_answered_400_with_the_reason() {
        let e = emulators();
        let reason = |name: &str, a: Json| match e.request(name, &args(a)) {
            Some(Err(HttpOutcome::Response(r))) => {
                assert_eq!(r.status, 400);
                String::from_utf8(r.body).unwrap()
            }
            other => panic!("{other:?}"),
        };
        let doc = "googleapis.firestore.v1.projects.databases.documents.get";
        assert!(reason(doc, serde_json::json!({})).contains("needs argument 'name'"));
        assert!(
            reason(doc, serde_json::json!({"name": "x", "nmae": 1})).contains("no argument 'nmae'")
        );
        assert!(
            reason(
                "googleapis.firestore.v1.projects.nothing",
                serde_json::json!({})
            )
            .contains("has no such method")
        );
        assert!(
            reason(doc, serde_json::json!({"name": "x", "body": {}})).contains("takes no body")
        );
    }
}
