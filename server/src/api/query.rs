//! A request's query string: the API's parameters (`pageSize`, `view`, `filter`, …, by
//! their lowerCamelCase or proto names) and Google's system parameters (`$alt`).

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::message::ApiResponse;
use crate::wire::{Enums, View};

/// System parameters Google's clients may send on any call; wfsim reads `$alt` and needs
/// none of the others.
const SYSTEM: [&str; 5] = ["$alt", "alt", "prettyPrint", "$prettyPrint", "quotaUser"];

pub(crate) struct Query {
    params: BTreeMap<String, String>,
    /// `$alt=json;enum-encoding=int` asks for enums as numbers.
    pub(crate) enums: Enums,
}

fn invalid(message: String) -> ApiResponse {
    ApiResponse::error(400, "INVALID_ARGUMENT", message)
}

/// `page_size` → `pageSize`.
fn camel(name: &str) -> String {
    let mut parts = name.split('_');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for p in parts {
        let mut cs = p.chars();
        if let Some(c) = cs.next() {
            out.extend(c.to_uppercase());
            out.push_str(cs.as_str());
        }
    }
    out
}

impl Query {
    pub(crate) fn parse(raw: &str) -> Result<Query, ApiResponse> {
        let mut params = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let key = if k.starts_with('$') {
                k.into_owned()
            } else {
                camel(&k)
            };
            if params.insert(key.clone(), v.into_owned()).is_some() {
                return Err(invalid(format!("query parameter '{key}' is given twice")));
            }
        }
        let alt = params.get("$alt").or_else(|| params.get("alt"));
        let enums = match alt.map(String::as_str) {
            None | Some("json") => Enums::Names,
            Some("json;enum-encoding=int") => Enums::Numbers,
            Some(other) => {
                return Err(invalid(format!(
                    "$alt={other} is not served: wfsim answers JSON ($alt=json, or json;enum-encoding=int)"
                )));
            }
        };
        Ok(Query { params, enums })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Refuses any parameter but `names` and the system ones.
    pub(crate) fn allow(&self, names: &[&str]) -> Result<(), ApiResponse> {
        match self
            .params
            .keys()
            .find(|k| !names.contains(&k.as_str()) && !SYSTEM.contains(&k.as_str()))
        {
            None => Ok(()),
            Some(k) => Err(invalid(format!(
                "unknown query parameter '{k}'{}",
                if names.is_empty() {
                    String::new()
                } else {
                    format!("; this call takes {}", names.join(", "))
                }
            ))),
        }
    }

    /// `view`, `default` when absent or unspecified.
    pub(crate) fn view(&self, default: View) -> Result<View, ApiResponse> {
        match self.get("view") {
            None | Some("EXECUTION_VIEW_UNSPECIFIED" | "0") => Ok(default),
            Some("BASIC" | "1") => Ok(View::Basic),
            Some("FULL" | "2") => Ok(View::Full),
            Some(other) => Err(invalid(format!("view={other} is not one of BASIC, FULL"))),
        }
    }

    /// `pageToken` and `pageSize` as (offset, size): a size of 0 or none is `default`, one
    /// over `most` is `most` (the API coerces it down).
    pub(crate) fn page(&self, default: usize, most: usize) -> Result<(usize, usize), ApiResponse> {
        let size = match self.get("pageSize") {
            None => default,
            Some(text) => match text.parse::<i64>() {
                Ok(0) => default,
                Ok(n) if n > 0 => usize::try_from(n).unwrap_or(most).min(most),
                _ => {
                    return Err(invalid(format!(
                        "pageSize={text} must be a whole number, 0 or more"
                    )));
                }
            },
        };
        let offset = match self.get("pageToken").filter(|t| !t.is_empty()) {
            None => 0,
            Some(token) => token
                .strip_prefix("wfsim-")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| page_token(n) == token)
                .ok_or_else(|| {
                    invalid(format!(
                        "pageToken '{token}' is not one this server gave (use nextPageToken)"
                    ))
                })?,
        };
        Ok((offset, size))
    }
}

/// One page of a list, `{KEY: [...], nextPageToken}`: `size` items from `offset`, and the
/// token of the next page if one is left.
pub(super) fn paged<T>(
    key: &str,
    items: &[T],
    offset: usize,
    size: usize,
    render: impl Fn(&T) -> Json,
) -> Json {
    let page: Vec<Json> = items.iter().skip(offset).take(size).map(render).collect();
    let mut out = serde_json::Map::new();
    out.insert(key.into(), Json::Array(page));
    if offset.saturating_add(size) < items.len() {
        out.insert("nextPageToken".into(), json!(page_token(offset + size)));
    }
    Json::Object(out)
}

/// A page token: where the next page starts. Opaque to clients, checked when it returns.
pub(super) fn page_token(offset: usize) -> String {
    format!("wfsim-{offset}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_by_either_name_and_the_enum_encoding() {
        let q = Query::parse("page_size=5&%24alt=json%3Benum-encoding%3Dint")
            .ok()
            .unwrap();
        assert_eq!(q.get("pageSize"), Some("5"));
        assert_eq!(q.enums, Enums::Numbers);
        assert!(q.allow(&["pageSize"]).is_ok());
        assert_eq!(q.allow(&[]).unwrap_err().status, 400);
        assert_eq!(q.page(100, 1000).unwrap(), (0, 5));
        let q = Query::parse("pageSize=5000&pageToken=wfsim-200")
            .ok()
            .unwrap();
        assert_eq!(q.page(100, 1000).unwrap(), (200, 1000));
        for bad in [
            "pageSize=-1",
            "pageSize=x",
            "pageToken=200",
            "pageToken=wfsim-07",
            "view=ALL",
            "$alt=proto",
            "a=1&a=2",
        ] {
            let res = Query::parse(bad).and_then(|q| q.page(100, 1000).and(q.view(View::Basic)));
            assert_eq!(res.map(|_| ()).unwrap_err().status, 400, "{bad}");
        }
    }
}
