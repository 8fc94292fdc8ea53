//! The event pattern of Google's tutorial "Wait for events using callbacks and Eventarc
//! triggers" on Google's own emulators (HT-11 … HT-13): `fixtures/events/event-primary.yaml`
//! leaves callback URLs in Firestore and waits; a message published to Pub/Sub starts
//! `event-listener.yaml` through `wfsim serve --trigger`, which reads the URL from Firestore
//! and posts the event to it with `auth: {type: OAuth2}`; a Cloud Storage event (no Google
//! emulator) comes through `POST /v1/wfsim/events`. Then again across a `kill -9` of the
//! server between the publish and the resume (`--state-dir`): nothing lost, nothing run
//! twice.
//!
//! Also Datastore's `commit` and `lookup` and Pub/Sub's `topics.create` as connectors.
//!
//! The emulators are started through gcloud once for the binary; skipped, saying why,
//! where gcloud, its emulator components or Java are missing.

// Real time is what a test of real processes waits in.
#![allow(clippy::disallowed_methods)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

mod common;
use common::{Server, http, root};

const TOKEN: &str = "tk";
const PROJECT: &str = "events-p";

/// A port free a moment ago, for an emulator that must be told one.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// An emulator started through gcloud in a process group of its own (gcloud starts Java
/// under it), killed whole when dropped.
struct Emulator {
    child: Child,
    host: String,
}

impl Emulator {
    /// `gcloud ARGS --host-port=127.0.0.1:PORT`, not yet waited for.
    fn spawn(args: &[&str]) -> Result<(Emulator, std::path::PathBuf), String> {
        use std::os::unix::process::CommandExt;
        let host = format!("127.0.0.1:{}", free_port());
        let log = std::env::temp_dir().join(format!(
            "wfsim-emulator-{}-{}.log",
            std::process::id(),
            args.iter()
                .position(|a| *a == "start")
                .map_or("x", |i| args[i - 1])
        ));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new("gcloud")
            .args(args)
            .arg(format!("--host-port={host}"))
            .env("CLOUDSDK_CORE_DISABLE_PROMPTS", "1")
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("gcloud: {e}"))?;
        Ok((Emulator { child, host }, log))
    }

    /// Waits until the emulator listens; `Err` why it did not (gcloud's own words).
    fn ready(mut self, log: &std::path::Path) -> Result<Emulator, String> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Ok(Some(status)) = self.child.try_wait() {
                let said = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("gcloud exited {status}: {said}"));
            }
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return Ok(self);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "an emulator did not listen within 90 s ({})",
            log.display()
        ))
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }

    fn base(&self) -> String {
        format!("http://{}", self.host)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why the emulators cannot run here, if they cannot.
fn missing() -> Option<String> {
    for (tool, arg) in [("gcloud", "--version"), ("java", "-version")] {
        let ran = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if ran.is_err() {
            return Some(format!(
                "{tool} is not installed (the emulators need gcloud and Java)"
            ));
        }
    }
    None
}

/// One request to an emulator, its answer read by its `Content-Length` (the Firestore
/// emulator keeps the connection open whatever the request asks).
fn emu(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let authority = base.strip_prefix("http://").expect("an http base");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or_else(|| panic!("no Content-Length: {head}"));
            if rest.len() >= length {
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
                return (status, rest[..length].to_owned());
            }
        }
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "the emulator closed the connection early: {text}");
        got.extend_from_slice(&buf[..n]);
    }
}

fn json_of(body: &str) -> Json {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// Polls `probe` every 50 ms for up to 60 s (a message a crashed server pulled comes back after its 10 s deadline).
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(t) = probe() {
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("waited 60 s for {what}");
}

/// The fields of Firestore document `callbacks/SOURCE` (empty when it has none or is
/// absent).
fn callback_fields(firestore: &str, source: &str) -> serde_json::Map<String, Json> {
    let path = format!("/v1/projects/{PROJECT}/databases/(default)/documents/callbacks/{source}");
    let (status, body) = emu(firestore, "GET", &path, "");
    match status {
        200 => json_of(&body)["fields"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
        404 => Default::default(),
        other => panic!("Firestore emulator answered {other}: {body}"),
    }
}

/// `wfsim serve` on `port` (0: a free one) with the trigger, the emulators and the
/// fixtures.
fn serve(emulators: &[&Emulator; 2], state_dir: &str, port: &str) -> Server {
    let fixtures = root().join("fixtures/events");
    let trigger = format!("pubsub:projects/{PROJECT}/topics/topic-callback=event-listener");
    Server::start_env(
        &[
            "--port",
            port,
            "--project",
            PROJECT,
            "--token",
            TOKEN,
            "--seed",
            "26",
            "--trigger",
            &trigger,
            "--state-dir",
            state_dir,
            fixtures.to_str().expect("UTF-8"),
        ],
        &[
            ("FIRESTORE_EMULATOR_HOST", &emulators[0].host),
            ("PUBSUB_EMULATOR_HOST", &emulators[1].host),
        ],
        Stdio::null(),
    )
}

const WORKFLOWS: &str = "/v1/projects/events-p/locations/us-central1/workflows";

/// Starts the primary; its execution's name and the Firestore field it writes.
fn start_primary(server: &Server) -> (String, String) {
    let (status, body) = http(
        &server.base,
        "POST",
        &format!("{WORKFLOWS}/event-primary/executions"),
        TOKEN,
        "{}",
    );
    assert_eq!(status, 200, "{body}");
    let name = json_of(&body)["name"].as_str().expect("a name").to_owned();
    let id = name.rsplit('/').next().expect("an id");
    let field = format!("exec_{}", id.split('-').next().expect("a prefix"));
    (name, field)
}

fn publish(pubsub: &Emulator, text: &str) -> String {
    let data = base64(text.as_bytes());
    let body = json!({"messages": [{"data": data, "attributes": {"from": "test"}}]});
    let (status, answer) = emu(
        &pubsub.base(),
        "POST",
        &format!("/v1/projects/{PROJECT}/topics/topic-callback:publish"),
        &body.to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    json_of(&answer)["messageIds"][0]
        .as_str()
        .expect("a message id")
        .to_owned()
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn storage_event(id: &str) -> String {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": format!("//storage.googleapis.com/projects/_/buckets/{PROJECT}-bucket-callback"),
        "type": "google.cloud.storage.object.v1.finalized",
        "data": {"bucket": format!("{PROJECT}-bucket-callback"), "name": "file.txt"},
    })
    .to_string()
}

fn post_event(server: &Server, event: &str) -> Json {
    let (status, body) = http(
        &server.base,
        "POST",
        "/v1/wfsim/events?workflow=event-listener",
        TOKEN,
        event,
    );
    assert_eq!(status, 200, "{body}");
    json_of(&body)
}

/// Waits for execution `name` to end; its resource.
fn ended(server: &Server, name: &str) -> Json {
    wait_for(&format!("{name} to end"), || {
        let (status, body) = http(&server.base, "GET", &format!("/v1/{name}"), TOKEN, "");
        assert_eq!(status, 200, "{body}");
        let e = json_of(&body);
        (e["state"] != "ACTIVE").then_some(e)
    })
}

/// The listener's executions started by the event with `id`.
fn listeners_of(server: &Server, id: &str) -> usize {
    let (status, body) = http(
        &server.base,
        "GET",
        &format!("{WORKFLOWS}/event-listener/executions?view=FULL&pageSize=1000"),
        TOKEN,
        "",
    );
    assert_eq!(status, 200, "{body}");
    json_of(&body)["executions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            let argument = json_of(e["argument"].as_str().unwrap_or("null"));
            argument["id"] == id
        })
        .count()
}

/// When a round kills the server (`kill -9`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Crash {
    Never,
    /// Right after the publish: most often before the trigger pulled the message.
    AfterPublish,
    /// Once the listener's start is journaled (the API shows it): maybe before the ack,
    /// maybe before its callback request.
    AfterStart,
}

/// One round of the tutorial: the primary started, the Pub/Sub half published, the server
/// killed when `crash` says and started again on the same port and state dir, the Storage
/// half sent; the primary must end with both events, its URLs taken back out of Firestore,
/// each event having started one listener.
fn round(emulators: &[&Emulator; 2], state_dir: &str, mut server: Server, crash: Crash) -> Server {
    let (primary, field) = start_primary(&server);
    let firestore = emulators[0].base();
    wait_for("the primary's URL in Firestore", || {
        callback_fields(&firestore, "topic-callback")
            .contains_key(&field)
            .then_some(())
    });
    let text = format!("hello from round {field}");
    let message_id = publish(emulators[1], &text);
    if crash == Crash::AfterStart {
        wait_for("the listener's start", || {
            (listeners_of(&server, &message_id) == 1).then_some(())
        });
    }
    if crash != Crash::Never {
        // Back on the same port: the URLs in Firestore name it, as a real restart keeps it.
        let port = server.base.rsplit(':').next().expect("a port").to_owned();
        server.kill();
        server = serve(emulators, state_dir, &port);
    }
    let bucket = format!("{PROJECT}-bucket-callback");
    wait_for("the primary to resume and wait for the bucket", || {
        callback_fields(&firestore, &bucket)
            .contains_key(&field)
            .then_some(())
    });
    assert!(
        !callback_fields(&firestore, "topic-callback").contains_key(&field),
        "the Pub/Sub URL is taken back out once called"
    );
    let storage_id = format!("storage-{field}");
    let taken = post_event(&server, &storage_event(&storage_id));
    assert_eq!(taken["duplicate"], false, "{taken}");
    let done = ended(&server, &primary);
    assert_eq!(done["state"], "SUCCEEDED", "{done}");
    let result = json_of(done["result"].as_str().expect("a result"));
    let pubsub = &result["pubsub_event"];
    assert_eq!(pubsub["id"], message_id.as_str(), "{result}");
    assert_eq!(
        pubsub["type"],
        "google.cloud.pubsub.topic.v1.messagePublished"
    );
    assert_eq!(
        pubsub["source"],
        format!("//pubsub.googleapis.com/projects/{PROJECT}/topics/topic-callback")
    );
    assert_eq!(pubsub["data"]["message"]["data"], base64(text.as_bytes()));
    assert_eq!(pubsub["data"]["message"]["attributes"]["from"], "test");
    assert_eq!(pubsub["data"]["message"]["messageId"], message_id.as_str());
    assert!(
        pubsub["data"]["message"]["publishTime"].is_string(),
        "{result}"
    );
    assert!(pubsub["time"].is_string(), "{result}");
    assert_eq!(
        pubsub["data"]["subscription"],
        format!("projects/{PROJECT}/subscriptions/wfsim-event-listener-topic-callback")
    );
    assert_eq!(result["storage_event"]["id"], storage_id.as_str());
    assert!(!callback_fields(&firestore, &bucket).contains_key(&field));
    // Nothing ran twice: one listener per event, and the same event again starts none.
    assert_eq!(listeners_of(&server, &message_id), 1);
    assert_eq!(listeners_of(&server, &storage_id), 1);
    let again = post_event(&server, &storage_event(&storage_id));
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(listeners_of(&server, &storage_id), 1);
    server
}

#[test]
fn ht_13_the_tutorials_event_pattern_runs_on_googles_emulators_and_survives_kill_9() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let project = format!("--project={PROJECT}");
    // All three at once: each takes seconds to start.
    let spawned = [
        Emulator::spawn(&["emulators", "firestore", "start"]),
        Emulator::spawn(&["beta", "emulators", "pubsub", "start", &project]),
        Emulator::spawn(&[
            "beta",
            "emulators",
            "datastore",
            "start",
            &project,
            "--no-store-on-disk",
        ]),
    ];
    let ready: Vec<Result<Emulator, String>> = spawned
        .into_iter()
        .map(|s| s.and_then(|(e, log)| e.ready(&log)))
        .collect();
    let (mut up, mut why) = (Vec::new(), Vec::new());
    for r in ready {
        match r {
            Ok(e) => up.push(e),
            Err(e) => why.push(e),
        }
    }
    if !why.is_empty() {
        // gcloud without its emulator components: say which, and skip.
        eprintln!("skipped: {}", why.join("; "));
        return;
    }
    let datastore = up.pop().expect("three");
    let pubsub = up.pop().expect("three");
    let firestore = up.pop().expect("three");
    eprintln!("emulators up in {:?}", started.elapsed());
    datastore_and_pubsub_connectors(&datastore, &pubsub);
    let emulators = [&firestore, &pubsub];
    let dir = root().join(format!("target/tmp/events-{}.state", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state_dir = dir.to_str().expect("UTF-8").to_owned();
    let server = serve(&emulators, &state_dir, "0");
    server.line("trigger pubsub:projects/events-p/topics/topic-callback=event-listener:");
    let server = round(&emulators, &state_dir, server, Crash::Never);
    let server = round(&emulators, &state_dir, server, Crash::AfterPublish);
    // Killed again, later: the memory of events taken is durable too.
    let server = round(&emulators, &state_dir, server, Crash::AfterStart);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "the tutorial's pattern, three rounds, in {:?}",
        started.elapsed()
    );
}

/// Datastore's `commit` and `lookup` and Pub/Sub's `topics.create` through their emulators.
fn datastore_and_pubsub_connectors(datastore: &Emulator, pubsub: &Emulator) {
    let dir = root().join(format!("target/tmp/events-ds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder");
    std::fs::write(
        dir.join("tasks.yaml"),
        r#"main:
  steps:
    - put:
        call: googleapis.datastore.v1.projects.commit
        args:
          projectId: events-p
          body:
            mode: NON_TRANSACTIONAL
            mutations:
              - upsert:
                  key:
                    path: [{kind: Task, name: t1}]
                  properties:
                    done: {booleanValue: true}
    - get:
        call: googleapis.datastore.v1.projects.lookup
        args:
          projectId: events-p
          body:
            keys:
              - path: [{kind: Task, name: t1}]
        result: found
    - topic:
        call: googleapis.pubsub.v1.projects.topics.create
        args:
          name: projects/events-p/topics/made-by-a-connector
        result: topic
    - done:
        return:
          done: ${found.found[0].entity.properties.done.booleanValue}
          topic: ${topic.name}
"#,
    )
    .expect("write");
    let server = Server::start_env(
        &[
            "--project",
            PROJECT,
            "--token",
            TOKEN,
            dir.to_str().expect("UTF-8"),
        ],
        &[
            ("DATASTORE_EMULATOR_HOST", &datastore.host),
            ("PUBSUB_EMULATOR_HOST", &pubsub.host),
        ],
        Stdio::null(),
    );
    let (status, body) = http(
        &server.base,
        "POST",
        &format!("{WORKFLOWS}/tasks/executions"),
        TOKEN,
        "{}",
    );
    assert_eq!(status, 200, "{body}");
    let done = ended(&server, json_of(&body)["name"].as_str().expect("a name"));
    assert_eq!(done["state"], "SUCCEEDED", "{done}");
    let result = json_of(done["result"].as_str().expect("a result"));
    assert_eq!(
        result,
        json!({"done": true, "topic": "projects/events-p/topics/made-by-a-connector"})
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A connector whose emulator is down fails its step with a catchable error, and the
/// server carries on; an argument the method lacks is Google's 400, as `HttpError`.
#[test]
fn ht_11_a_connector_to_an_emulator_that_is_down_fails_the_step_not_the_server() {
    let dir = root().join(format!("target/tmp/events-down-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder");
    std::fs::write(
        dir.join("reads.yaml"),
        r#"main:
  steps:
    - down:
        try:
          call: googleapis.firestore.v1.projects.databases.documents.get
          args:
            name: projects/p/databases/(default)/documents/c/d
        except:
          as: e
          steps:
            - keep_first:
                assign:
                  - first: ${e.tags[0]}
    - misspelt:
        try:
          call: googleapis.firestore.v1.projects.databases.documents.get
          args:
            name: projects/p/databases/(default)/documents/c/d
            nmae: x
        except:
          as: e
          steps:
            - keep_second:
                assign:
                  - second: ${e}
    - done:
        return:
          first: ${first}
          second_code: ${second.code}
          second_tag: ${second.tags[0]}
          second_message: ${second.body.error.message}
"#,
    )
    .expect("write");
    let closed = format!("127.0.0.1:{}", free_port());
    let server = Server::start_env(
        &[
            "--project",
            "p",
            "--token",
            TOKEN,
            dir.to_str().expect("UTF-8"),
        ],
        &[("FIRESTORE_EMULATOR_HOST", &closed)],
        Stdio::null(),
    );
    let path = "/v1/projects/p/locations/us-central1/workflows/reads/executions";
    let (status, body) = http(&server.base, "POST", path, TOKEN, "{}");
    assert_eq!(status, 200, "{body}");
    let name = json_of(&body)["name"].as_str().expect("a name").to_owned();
    let done = ended(&server, &name);
    assert_eq!(done["state"], "SUCCEEDED", "{done}");
    let result = json_of(done["result"].as_str().expect("a result"));
    assert_eq!(result["first"], "ConnectionFailedError", "{result}");
    assert_eq!(result["second_code"], 400, "{result}");
    assert_eq!(result["second_tag"], "HttpError", "{result}");
    assert!(
        result["second_message"]
            .as_str()
            .is_some_and(|m| m.contains("no argument 'nmae'")),
        "{result}"
    );
    // The server still answers.
    let (status, _) = http(&server.base, "GET", path, TOKEN, "");
    assert_eq!(status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--trigger` is refused, saying what to fix, when it is malformed or has no Pub/Sub
/// emulator to pull through.
#[test]
fn a_trigger_without_its_emulator_or_its_form_is_refused() {
    let run = |trigger: &str, env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
            .args(["serve", "--port", "0", "--trigger", trigger])
            .env_remove("PUBSUB_EMULATOR_HOST")
            .envs(env.iter().copied())
            .output()
            .expect("wfsim runs");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = run("pubsub:projects/p/topics/t=w", &[]);
    assert!(said.contains("set PUBSUB_EMULATOR_HOST"), "{said}");
    let said = run(
        "pubsub:projects/p/t=w",
        &[("PUBSUB_EMULATOR_HOST", "127.0.0.1:1")],
    );
    assert!(
        said.contains("--trigger takes pubsub:projects/PROJECT/topics/TOPIC=WORKFLOW"),
        "{said}"
    );
}
