//! `wfsim serve`'s web UI under `/ui/`: the workflows (revisions, source, deploy errors),
//! the executions (filtered by state, updating live), one execution (the reports' timeline,
//! its endpoints, requests, step entries, logs, outcome linked to its source line), and
//! actions from the page (start, send a callback, cancel, move a manual clock).
//!
//! It is the server's [`Pages`] extension point implemented above the renderer:
//! `access.rs` (the link, the cookie, the forms' token: SPEC UI-1, UI-2), `routes.rs` (a
//! path to a page, a form to the API request that carries it out), `pages.rs` (the HTML),
//! `app.js` (the polling that keeps a page live).

pub mod access;
pub mod pages;
pub mod routes;

use wfsim_server::{ApiRequest, ApiResponse, Pages, UiAnswer, View};

/// The UI of one server.
#[derive(Debug)]
pub struct Ui {
    access: access::Access,
    /// The server's own token, carried by the API requests the forms make; `None` under
    /// `--no-auth`.
    token: Option<String>,
}

impl Ui {
    /// The UI of a server whose own token is `token` (`None` under `--no-auth`), started
    /// with `seed`.
    pub fn new(token: Option<&str>, seed: u64) -> Ui {
        Ui {
            access: access::Access::new(token, seed),
            token: token.map(str::to_owned),
        }
    }

    /// The link the start-up lines print (UI-1).
    pub fn link(&self, base_url: &str) -> String {
        self.access.link(base_url)
    }
}

impl Pages for Ui {
    fn answer(&self, view: &View<'_>, req: &ApiRequest) -> UiAnswer {
        routes::answer(&self.access, self.token.as_deref(), view, req)
    }

    fn answered(&self, view: &View<'_>, req: &ApiRequest, res: &ApiResponse) -> ApiResponse {
        routes::answered(view, req, res)
    }
}
