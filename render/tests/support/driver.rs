//! Debian's chromium, driven over WebDriver by chromedriver: what the browser tests share
//! (`render/tests/browser.rs`'s reports, `cli/tests/ui.rs`'s live UI). Included with
//! `#[path = …] mod driver;`; a test crate that includes it needs fantoccini, hyper-util,
//! url, http, serde_json and a tokio runtime.
//!
//! Tests skip, saying why, where chromedriver is not installed (`.ci/run` installs it).

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value as Json, json};

/// Where screenshots go for a person to look at after CI: `target/ui-screens/` of the
/// workspace (every crate that includes this sits one folder below its root).
pub fn screens() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ui-screens");
    std::fs::create_dir_all(&dir).expect("target/ui-screens can be made");
    dir
}

/// chromedriver on a free port, killed when dropped.
pub struct Driver(Child, pub u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver started, or `None` (said on stderr) where it is not installed.
pub fn driver() -> Option<Driver> {
    let found = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        eprintln!("skipped: chromedriver is not installed (Debian: chromium chromium-driver)");
        return None;
    }
    // Port 0: chromedriver takes a free port itself and says which. Picking one here and
    // handing it over races with every other process on the machine (CI saw it lost).
    let mut child = Command::new("chromedriver")
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let stdout = child.stdout.take().expect("chromedriver's stdout");
    // Owned by the guard from the start: killed and waited for on every path.
    let mut driver = Driver(child, 0);
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("chromedriver's output");
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            driver.1 = rest
                .trim_end_matches('.')
                .parse()
                .unwrap_or_else(|_| panic!("a port in {line:?}"));
            break;
        }
    }
    assert!(driver.1 != 0, "chromedriver ended without saying its port");
    // Drained so that chromedriver never blocks writing to a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Some(driver)
}

/// The browser's console, through chromedriver's log endpoint (not in W3C WebDriver, so
/// fantoccini has no method for it). Each read returns what was logged since the last.
#[derive(Debug)]
pub struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The console's errors since the last read.
pub async fn console_errors(c: &Client) -> Vec<Json> {
    let log = c.issue_cmd(BrowserLog).await.expect("the browser's log");
    log.as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["level"] == "SEVERE")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// A headless chromium session through the chromedriver on `port`.
pub async fn browser(port: u16) -> Client {
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1000"]}),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session")
}

/// What `script` returns in the page.
pub async fn js(c: &Client, script: &str) -> Json {
    c.execute(script, Vec::new())
        .await
        .expect("the script runs")
}
