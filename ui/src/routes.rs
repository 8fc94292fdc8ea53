//! A path under `/ui/` to a page; a form to the API request that carries it out (so an
//! action from the page is checked, logged and answered exactly as a client's is), and the
//! API's answer to what the user sees next: a redirect to the page that shows the result
//! (post, redirect, get), or the API's error in words.
//!
//! The UI's paths mirror the API's resource names: `/ui/projects/P/locations/L/workflows/W`
//! and `…/executions/ID`; `/ui/executions`, `/ui/workflows`, `/ui/clock`, `/ui/login`.

use std::time::Duration;

use serde_json::{Value as Json, json};
use wfsim_server::{ApiRequest, ApiResponse, UiAnswer, View};

use crate::access::Access;
use crate::pages::{self, Flash};

const APP_JS: &str = include_str!("app.js");

/// What a path under `/ui/` names.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Home,
    Script,
    Login,
    Executions,
    Workflows,
    Clock,
    Workflow(Resource<'a>),
    /// `…/workflows/W/executions` (a POST starts one).
    Start(Resource<'a>),
    Execution(Resource<'a>, &'a str),
    Callback(Resource<'a>, &'a str),
    Cancel(Resource<'a>, &'a str),
    Unknown,
}

/// A workflow as a path names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resource<'a> {
    project: &'a str,
    location: &'a str,
    workflow: &'a str,
}

impl Resource<'_> {
    fn api(&self) -> String {
        format!(
            "/v1/projects/{}/locations/{}/workflows/{}",
            self.project, self.location, self.workflow
        )
    }
}

fn route(path: &str) -> Route<'_> {
    let rest = path.strip_prefix("/ui").unwrap_or(path);
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
    match parts[..] {
        [] => Route::Home,
        ["app.js"] => Route::Script,
        ["login"] => Route::Login,
        ["executions"] => Route::Executions,
        ["workflows"] => Route::Workflows,
        ["clock"] => Route::Clock,
        [
            "projects",
            project,
            "locations",
            location,
            "workflows",
            workflow,
            ref tail @ ..,
        ] => {
            let r = Resource {
                project,
                location,
                workflow,
            };
            match tail {
                [] => Route::Workflow(r),
                ["executions"] => Route::Start(r),
                ["executions", id] => Route::Execution(r, id),
                ["executions", id, "callback"] => Route::Callback(r, id),
                ["executions", id, "cancel"] => Route::Cancel(r, id),
                _ => Route::Unknown,
            }
        }
        _ => Route::Unknown,
    }
}

fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> ApiResponse {
    ApiResponse {
        status,
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            ("Cache-Control".into(), "no-store".into()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
            // Not in another site's frame (clickjacking), and the login link's key is not
            // handed on to another site as a Referer (`same-origin`, not `no-referrer`,
            // under which a browser sends the forms' Origin as `null`).
            ("X-Frame-Options".into(), "DENY".into()),
            ("Referrer-Policy".into(), "same-origin".into()),
        ],
        body,
    }
}

fn page(status: u16, html: String) -> ApiResponse {
    respond(status, "text/html; charset=utf-8", html.into_bytes())
}

/// 303 See Other to `to` (a form's answer: the browser GETs the page that shows it).
fn see(to: &str) -> ApiResponse {
    let mut res = respond(
        303,
        "text/plain; charset=utf-8",
        format!("see {to}").into_bytes(),
    );
    res.headers.push(("Location".into(), to.to_owned().into()));
    res
}

fn query(req: &ApiRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Answers a request under `/ui/`: a page, or the API request a form makes.
pub fn answer(access: &Access, token: Option<&str>, view: &View<'_>, req: &ApiRequest) -> UiAnswer {
    let r = route(&req.path);
    if r == Route::Script {
        return UiAnswer::Page(respond(
            200,
            "text/javascript; charset=utf-8",
            APP_JS.into(),
        ));
    }
    if r == Route::Login {
        let q = query(req);
        return UiAnswer::Page(match access.opens(field(&q, "key").unwrap_or("")) {
            Some(false) => page(401, pages::locked()),
            Some(true) => {
                let mut res = see("/ui/executions");
                if let Some(c) = access.cookie() {
                    res.headers.push(("Set-Cookie".into(), c.into()));
                }
                res
            }
            None => see("/ui/executions"),
        });
    }
    if !access.allows(req) {
        return UiAnswer::Page(page(401, pages::locked()));
    }
    match req.method.as_str() {
        "GET" => UiAnswer::Page(get(access, view, req, r)),
        "POST" => post(access, token, view, req, r),
        _ => UiAnswer::Page(page(
            405,
            pages::message(
                view,
                "Method not allowed",
                "The UI's pages are read with GET and its forms sent with POST.",
                Some("/ui/executions"),
            ),
        )),
    }
}

fn not_found(view: &View<'_>, what: &str) -> ApiResponse {
    page(
        404,
        pages::message(view, "Not found", what, Some("/ui/executions")),
    )
}

fn get(access: &Access, view: &View<'_>, req: &ApiRequest, r: Route<'_>) -> ApiResponse {
    let q = query(req);
    match r {
        Route::Home => see("/ui/executions"),
        Route::Executions => {
            let state = field(&q, "state").filter(|s| !s.is_empty());
            if let Some(s) = state.filter(|s| !pages::STATES.contains(s)) {
                let text = format!(
                    "'{s}' is no state; the states are {}",
                    pages::STATES.join(", ")
                );
                return page(
                    400,
                    pages::message(view, "No such state", &text, Some("/ui/executions")),
                );
            }
            page(200, pages::executions(view, state))
        }
        Route::Workflows => page(200, pages::workflows(view, access.csrf())),
        Route::Workflow(w) => match find_workflow(view, w) {
            Some(found) => page(
                200,
                pages::workflow(view, &found, field(&q, "revision"), access.csrf()),
            ),
            None => not_found(
                view,
                &format!(
                    "No workflow '{}' is deployed in projects/{}/locations/{}.",
                    w.workflow, w.project, w.location
                ),
            ),
        },
        Route::Execution(w, id) => match find_execution(view, w, id) {
            Some(e) => page(
                200,
                pages::execution(view, &e, access.csrf(), flash(&q).as_ref()),
            ),
            None => not_found(
                view,
                &format!(
                    "Workflow '{}' has no execution '{id}' held by this server.",
                    w.workflow
                ),
            ),
        },
        _ => not_found(view, "The UI has no page here."),
    }
}

fn find_workflow<'a>(view: &View<'a>, w: Resource<'_>) -> Option<wfsim_server::WorkflowView<'a>> {
    view.workflows().into_iter().find(|f| {
        f.name == w.workflow && f.parent.project == w.project && f.parent.location == w.location
    })
}

fn find_execution<'a>(
    view: &View<'a>,
    w: Resource<'_>,
    id: &str,
) -> Option<wfsim_server::ExecutionView<'a>> {
    view.execution(w.workflow, id)
        .filter(|e| e.parent().project == w.project && e.parent().location == w.location)
}

/// What a callback's redirect says (`?sent=STATUS&endpoint=N&method=M&why=…`).
fn flash(q: &[(String, String)]) -> Option<Flash> {
    if let Some(status) = field(q, "sent") {
        let why = field(q, "why").filter(|w| !w.is_empty());
        return Some(Flash {
            text: format!(
                "{} to endpoint {} answered {status}{}",
                field(q, "method").unwrap_or("the request"),
                field(q, "endpoint").unwrap_or("?"),
                why.map_or(String::new(), |w| format!(": {w}"))
            ),
            refused: status != "200",
        });
    }
    field(q, "note").map(|n| Flash {
        text: n.to_owned(),
        refused: false,
    })
}

fn api(method: &str, path: String, body: &Json, token: Option<&str>) -> ApiRequest {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if let Some(t) = token {
        headers.push(("Authorization".to_owned(), format!("Bearer {t}")));
    }
    ApiRequest {
        method: method.to_owned(),
        path,
        query: String::new(),
        headers,
        body: body.to_string().into_bytes(),
    }
}

fn refuse(view: &View<'_>, status: u16, title: &str, text: &str, back: &str) -> UiAnswer {
    UiAnswer::Page(page(status, pages::message(view, title, text, Some(back))))
}

fn post(
    access: &Access,
    token: Option<&str>,
    view: &View<'_>,
    req: &ApiRequest,
    r: Route<'_>,
) -> UiAnswer {
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    if let Some(why) = access.forged(req, field(&form, "csrf")) {
        return refuse(view, 403, "Refused", why, "/ui/executions");
    }
    match r {
        Route::Start(w) => {
            let argument = field(&form, "argument").map(str::trim).unwrap_or("");
            let body = if argument.is_empty() {
                json!({})
            } else {
                json!({"argument": argument})
            };
            UiAnswer::Call(api("POST", format!("{}/executions", w.api()), &body, token))
        }
        Route::Cancel(w, id) => UiAnswer::Call(api(
            "POST",
            format!("{}/executions/{id}:cancel", w.api()),
            &json!({}),
            token,
        )),
        Route::Callback(w, id) => callback(view, token, &form, w, id),
        Route::Clock => clock(view, token, &form),
        _ => UiAnswer::Page(not_found(view, "No form is sent here.")),
    }
}

/// A callback from the page: to the chosen endpoint's URL, with the method, headers and
/// body given, carrying the server's token unless the headers give an Authorization of
/// their own (to see a 401 or 403 on the timeline).
fn callback(
    view: &View<'_>,
    token: Option<&str>,
    form: &[(String, String)],
    w: Resource<'_>,
    id: &str,
) -> UiAnswer {
    let Some(e) = find_execution(view, w, id) else {
        return UiAnswer::Page(not_found(
            view,
            "That execution is not held by this server.",
        ));
    };
    let back = pages::execution_url(&e);
    let chosen = field(form, "endpoint").and_then(|n| n.parse::<usize>().ok());
    let endpoint = chosen.and_then(|n| {
        e.execution().with_callbacks(|c| {
            c.endpoints()
                .get(n)
                .map(|p| (p.url().to_owned(), p.method().as_str().to_owned()))
        })
    });
    let Some((url, own_method)) = endpoint else {
        return refuse(
            view,
            400,
            "No such endpoint",
            "Choose one of the execution's callback endpoints (it may have ended, which frees them).",
            &back,
        );
    };
    // The URL's path: what follows `scheme://host`.
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map_or_else(|| "/".to_owned(), |p| format!("/{p}"));
    let method = field(form, "method")
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let method = method.map_or(own_method, str::to_ascii_uppercase);
    if !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return refuse(
            view,
            400,
            "Not a method",
            &format!("'{method}' is not an HTTP method (letters only, like POST)"),
            &back,
        );
    }
    let mut headers = Vec::new();
    for (n, line) in field(form, "headers").unwrap_or("").lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(' ') => {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            _ => {
                let text = format!("header line {}, '{line}', is not 'Name: value'", n + 1);
                return refuse(view, 400, "Not a header", &text, &back);
            }
        }
    }
    if let Some(t) = token.filter(|_| {
        !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    }) {
        headers.push(("Authorization".to_owned(), format!("Bearer {t}")));
    }
    UiAnswer::Call(ApiRequest {
        method,
        path,
        query: String::new(),
        headers,
        body: field(form, "body").unwrap_or("").as_bytes().to_vec(),
    })
}

/// Whether `back` (a form's field) is a page of this UI to return to: never another site,
/// nor a character a `Location` header cannot carry.
fn is_ui_page(back: &str) -> bool {
    back.starts_with("/ui/") && !back.contains("//") && !back.chars().any(char::is_control)
}

/// `clock:advance` by the seconds given, or exactly to the next deadline.
fn clock(view: &View<'_>, token: Option<&str>, form: &[(String, String)]) -> UiAnswer {
    let back = field(form, "back")
        .filter(|b| is_ui_page(b))
        .unwrap_or("/ui/executions");
    let seconds = if field(form, "to") == Some("next") {
        let Some(next) = view.next_deadline() else {
            return refuse(
                view,
                409,
                "Nothing is due",
                "No execution has a timer, sleep, back-off or call waiting: there is no next deadline.",
                back,
            );
        };
        exact_seconds(next.saturating_since(view.now()))
    } else {
        let text = field(form, "seconds").unwrap_or("").trim();
        match text.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => s,
            _ => {
                return refuse(
                    view,
                    400,
                    "Not a number of seconds",
                    &format!("'{text}' is not a number of seconds, 0 or more"),
                    back,
                );
            }
        }
    };
    UiAnswer::Call(api(
        "POST",
        "/v1/wfsim/clock:advance".into(),
        &json!({"seconds": seconds}),
        token,
    ))
}

/// The fewest seconds, as a double, that the API reads as at least `d`: advancing by them
/// reaches the deadline, not a nanosecond short of it.
fn exact_seconds(d: Duration) -> f64 {
    let mut s = d.as_secs_f64();
    while Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX) < d {
        s = f64::from_bits(s.to_bits() + 1);
    }
    s
}

/// The method a callback form sent: its own, else the chosen endpoint's.
fn sent_method(view: &View<'_>, form: &[(String, String)], w: Resource<'_>, id: &str) -> String {
    if let Some(m) = field(form, "method")
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        return m.to_ascii_uppercase();
    }
    let n = field(form, "endpoint").and_then(|n| n.parse::<usize>().ok());
    find_execution(view, w, id)
        .zip(n)
        .and_then(|(e, n)| {
            e.execution()
                .with_callbacks(|c| c.endpoints().get(n).map(|p| p.method().as_str().to_owned()))
        })
        .unwrap_or_else(|| "the request".to_owned())
}

/// After the API answered a form's request: on to the page that shows it, or its error.
pub fn answered(view: &View<'_>, req: &ApiRequest, res: &ApiResponse) -> ApiResponse {
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let json: Json = serde_json::from_slice(&res.body).unwrap_or(Json::Null);
    let why = json["error"]["message"].as_str().unwrap_or("").to_owned();
    let back = |w: Resource<'_>, id: &str| {
        format!(
            "/ui/projects/{}/locations/{}/workflows/{}/executions/{id}",
            w.project, w.location, w.workflow
        )
    };
    match route(&req.path) {
        Route::Callback(w, id) => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("sent", &res.status.to_string())
                .append_pair("endpoint", field(&form, "endpoint").unwrap_or(""))
                .append_pair("method", &sent_method(view, &form, w, id))
                .append_pair("why", &why)
                .finish();
            see(&format!("{}?{q}#at-timeline", back(w, id)))
        }
        _ if res.status != 200 => {
            let text = format!("The API answered {}: {why}", res.status);
            page(
                res.status,
                pages::message(view, "Not done", &text, Some("/ui/executions")),
            )
        }
        Route::Start(_) => match json["name"].as_str() {
            Some(name) => see(&format!("/ui/{name}")),
            None => see("/ui/executions"),
        },
        Route::Cancel(w, id) => see(&back(w, id)),
        Route::Clock => {
            let to = field(&form, "back")
                .filter(|b| is_ui_page(b))
                .unwrap_or("/ui/executions");
            let note = format!(
                "the {} clock moved to {}",
                view.clock_mode().as_str(),
                view.now()
            );
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("note", &note)
                .finish();
            see(&format!("{to}?{q}"))
        }
        _ => see("/ui/executions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_pages() {
        let w = Resource {
            project: "p",
            location: "l",
            workflow: "w",
        };
        assert_eq!(route("/ui/"), Route::Home);
        assert_eq!(route("/ui"), Route::Home);
        assert_eq!(route("/ui/executions"), Route::Executions);
        assert_eq!(
            route("/ui/projects/p/locations/l/workflows/w"),
            Route::Workflow(w)
        );
        assert_eq!(
            route("/ui/projects/p/locations/l/workflows/w/executions/x"),
            Route::Execution(w, "x")
        );
        assert_eq!(
            route("/ui/projects/p/locations/l/workflows/w/executions/x/callback"),
            Route::Callback(w, "x")
        );
        assert_eq!(
            route("/ui/projects/p/locations/l/workflows/w/executions/x/cancel"),
            Route::Cancel(w, "x")
        );
        assert_eq!(route("/ui/projects/p/workflows/w"), Route::Unknown);
    }

    #[test]
    fn a_form_returns_only_to_this_uis_pages() {
        assert!(is_ui_page(
            "/ui/projects/p/locations/l/workflows/w/executions/x"
        ));
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/ui/",
            "/ui//evil",
            "/ui/x\r\nSet-Cookie: a=b",
            "/v1/wfsim/clock",
        ] {
            assert!(!is_ui_page(elsewhere), "{elsewhere}");
        }
    }

    #[test]
    fn the_next_deadline_is_reached_exactly() {
        for ns in [
            1u64,
            999_999_999,
            3_600_000_000_000,
            3_600_001_000_000,
            86_400_123_456_789,
        ] {
            let d = Duration::from_nanos(ns);
            let s = exact_seconds(d);
            let read = Duration::try_from_secs_f64(s).unwrap();
            assert!(
                read >= d && read - d < Duration::from_nanos(2),
                "{ns}: {read:?}"
            );
        }
    }
}
