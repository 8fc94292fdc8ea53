//! `wfsim serve` in this process for the client tests: on a thread of its own (its state
//! is single-threaded), through the same `wfsim_server::serve` the command runs.

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use wfsim_engine::defn;
use wfsim_server::{ClockMode, Config, State};

/// A `wfsim serve` on a free port (project `p`, location `l`, auth on, manual clock),
/// stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// A token with every permission.
    pub token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// With `workflows` (name, YAML) deployed.
    pub fn start(workflows: &[(&str, &str)]) -> Server {
        let workflows: Vec<(String, String)> = workflows
            .iter()
            .map(|(n, y)| ((*n).to_owned(), (*y).to_owned()))
            .collect();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let mut state = State::new(
                    Config {
                        seed: 1,
                        clock: ClockMode::Manual,
                        ..Config::new("p", "l", format!("http://{addr}"))
                    },
                    1_704_067_200_000_000_000,
                );
                for (name, yaml) in &workflows {
                    state.deploy(name, defn::load(&format!("{name}.yaml"), yaml).unwrap());
                }
                let token = state.master_token().unwrap();
                ready_tx.send((addr, token)).unwrap();
                wfsim_server::serve(
                    listener,
                    Rc::new(RefCell::new(state)),
                    tokio::time::Instant::now(),
                    Rc::new(|_line| {}),
                    async {
                        let _ = stopped.await;
                    },
                )
                .await;
            });
        });
        let (addr, token) = ready.recv().unwrap();
        Server {
            url: format!("http://{addr}"),
            token,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// One plain HTTP/1.1 request with the token: status and body (curl's part in the
    /// guide's walk-through).
    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let authority = self.url.strip_prefix("http://").unwrap();
        let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.token,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
