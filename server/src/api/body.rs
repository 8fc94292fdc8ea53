//! Request bodies as Google's JSON mapping reads them: a JSON object whose fields have
//! their lowerCamelCase or proto names; an unknown field or a value of the wrong type is
//! 400 INVALID_ARGUMENT naming the field, never silently dropped.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use crate::message::ApiResponse;

/// The fields of one request body, taken one by one; [`Fields::finish`] refuses the rest.
pub(crate) struct Fields {
    /// What the body is, for messages: `execution`, `workflow`, ….
    what: &'static str,
    map: Map<String, Json>,
}

fn invalid(message: String) -> ApiResponse {
    ApiResponse::error(400, "INVALID_ARGUMENT", message)
}

/// `call_log_level` → `callLogLevel`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Fields {
    /// The body as an object; an empty body is an empty object, and so is `""`: Google's
    /// Node.js clients (gax's REST transport) send `""` when the request's body field is
    /// unset or empty, e.g. `createExecution({parent})`.
    pub(crate) fn parse(body: &[u8], what: &'static str) -> Result<Fields, ApiResponse> {
        if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"\"\"" {
            return Ok(Fields {
                what,
                map: Map::new(),
            });
        }
        let json: Json = serde_json::from_slice(body).map_err(|e| {
            invalid(format!(
                "Invalid JSON payload received: the body is not JSON ({e})"
            ))
        })?;
        let Json::Object(object) = json else {
            return Err(invalid(format!(
                "Invalid JSON payload received: the {what} must be a JSON object, got {}",
                kind(&json)
            )));
        };
        let mut map = Map::new();
        for (k, v) in object {
            let key = camel(&k);
            if map.contains_key(&key) {
                return Err(invalid(format!(
                    "Invalid JSON payload received: field '{key}' of the {what} is given twice"
                )));
            }
            map.insert(key, v);
        }
        Ok(Fields { what, map })
    }

    /// A field's value; `null` counts as absent, as in Google's JSON mapping.
    fn take(&mut self, name: &str) -> Option<Json> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    fn wrong_type(&self, name: &str, expected: &str, got: &Json) -> ApiResponse {
        invalid(format!(
            "Invalid value at '{}.{name}': expected {expected}, got {}",
            self.what,
            kind(got)
        ))
    }

    pub(crate) fn string(&mut self, name: &str) -> Result<Option<String>, ApiResponse> {
        match self.take(name) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(name, "a string", &other)),
        }
    }

    pub(crate) fn boolean(&mut self, name: &str) -> Result<Option<bool>, ApiResponse> {
        match self.take(name) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong_type(name, "true or false", &other)),
        }
    }

    /// A `map<string, string>` field, such as `labels`.
    pub(crate) fn string_map(
        &mut self,
        name: &str,
    ) -> Result<BTreeMap<String, String>, ApiResponse> {
        match self.take(name) {
            None => Ok(BTreeMap::new()),
            Some(Json::Object(m)) => m
                .into_iter()
                .map(|(k, v)| match v {
                    Json::String(s) => Ok((k, s)),
                    other => Err(self.wrong_type(&format!("{name}[{k:?}]"), "a string", &other)),
                })
                .collect(),
            Some(other) => Err(self.wrong_type(name, "an object of strings", &other)),
        }
    }

    /// An enum field, by name or by number; returns its index in `names` (0 when absent).
    pub(crate) fn enumeration(&mut self, name: &str, names: &[&str]) -> Result<usize, ApiResponse> {
        let bad = |this: &Self, got: &Json| {
            invalid(format!(
                "Invalid value at '{}.{name}': {got} is not one of {}",
                this.what,
                names.join(", ")
            ))
        };
        match self.take(name) {
            None => Ok(0),
            Some(Json::String(s)) => names
                .iter()
                .position(|n| *n == s)
                .ok_or_else(|| bad(self, &Json::String(s))),
            Some(Json::Number(n)) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .filter(|&i| i < names.len())
                .ok_or_else(|| bad(self, &Json::Number(n))),
            Some(other) => Err(bad(self, &other)),
        }
    }

    /// Fields the server sets itself: accepted in a request and ignored, as Google does.
    pub(crate) fn ignore(&mut self, names: &[&str]) {
        for n in names {
            self.map.remove(*n);
        }
    }

    /// Refuses whatever field was not taken.
    pub(crate) fn finish(self) -> Result<(), ApiResponse> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(unknown) => Err(invalid(format!(
                "Invalid JSON payload received. Unknown name \"{unknown}\" at '{}': Cannot find field.",
                self.what
            ))),
        }
    }
}

/// A JSON value's kind, for messages.
fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// The field `field` of an optional JSON body: `None` for an empty body or a missing field;
/// a 400 that shows `example` for a body that is not JSON.
pub(super) fn optional_field(
    body: &[u8],
    field: &str,
    example: &str,
) -> Result<Option<Json>, ApiResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut parsed: Json = serde_json::from_slice(body).map_err(|e| {
        ApiResponse::error(
            400,
            "INVALID_ARGUMENT",
            format!("the body must be JSON like {example}: {e}"),
        )
    })?;
    Ok(parsed
        .get_mut(field)
        .map(Json::take)
        .filter(|v| !v.is_null()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(res: ApiResponse) -> String {
        assert_eq!(res.status, 400);
        String::from_utf8(res.body).unwrap()
    }

    #[test]
    fn fields_are_taken_by_either_name_and_the_rest_refused() {
        let mut f = Fields::parse(
            br#"{"call_log_level": "LOG_NONE", "labels": {"a": "b"}, "argument": null}"#,
            "execution",
        )
        .ok()
        .unwrap();
        assert_eq!(f.string("argument").ok().unwrap(), None);
        let levels = [
            "CALL_LOG_LEVEL_UNSPECIFIED",
            "LOG_ALL_CALLS",
            "LOG_ERRORS_ONLY",
            "LOG_NONE",
        ];
        assert_eq!(f.enumeration("callLogLevel", &levels).ok().unwrap(), 3);
        assert_eq!(f.string_map("labels").ok().unwrap()["a"], "b");
        assert!(f.finish().is_ok());

        let mut f = Fields::parse(br#"{"argumnet": "{}"}"#, "execution")
            .ok()
            .unwrap();
        assert_eq!(f.string("argument").ok().unwrap(), None);
        let m = message(f.finish().unwrap_err());
        assert!(
            m.contains(r#"Unknown name \"argumnet\" at 'execution'"#),
            "{m}"
        );
    }

    #[test]
    fn an_empty_string_body_is_an_absent_message() {
        // What gax's REST transport sends for `createExecution({parent})`.
        let f = Fields::parse(b" \"\" ", "execution").ok().unwrap();
        assert!(f.finish().is_ok());
        let m = message(Fields::parse(br#""x""#, "execution").err().unwrap());
        assert!(m.contains("must be a JSON object, got a string"), "{m}");
    }

    #[test]
    fn wrong_shapes_say_which_field() {
        let m = message(Fields::parse(b"[1, 2]", "execution").err().unwrap());
        assert!(m.contains("must be a JSON object, got a list"), "{m}");
        let m = message(Fields::parse(b"{", "execution").err().unwrap());
        assert!(m.contains("not JSON"), "{m}");
        let mut f = Fields::parse(br#"{"argument": 5}"#, "execution")
            .ok()
            .unwrap();
        let m = message(f.string("argument").unwrap_err());
        assert!(
            m.contains("'execution.argument': expected a string, got a number"),
            "{m}"
        );
        let mut f = Fields::parse(br#"{"labels": {"a": 1}}"#, "execution")
            .ok()
            .unwrap();
        let m = message(f.string_map("labels").unwrap_err());
        assert!(m.contains("labels"), "{m}");
        let mut f = Fields::parse(br#"{"callLogLevel": 9}"#, "execution")
            .ok()
            .unwrap();
        let m = message(f.enumeration("callLogLevel", &["A", "B"]).unwrap_err());
        assert!(m.contains("9 is not one of A, B"), "{m}");
        let m = message(Fields::parse(br#"{"a_b": 1, "aB": 2}"#, "x").err().unwrap());
        assert!(m.contains("'aB' of the x is given twice"), "{m}");
    }
}
