//! Pub/Sub triggers (HT-13): `--trigger pubsub:projects/P/topics/T=WORKFLOW` pulls the
//! topic through Google's Pub/Sub emulator, on a subscription of its own, and hands each
//! message to `POST /v1/wfsim/events` as the CloudEvent Eventarc would deliver, so the start
//! is an input of the log like a request. A message is acknowledged only once that input
//! is on disk (`--state-dir`): a crash before redelivers it, and the route's memory of
//! events taken keeps a redelivered one from starting a second execution.

use std::rc::Rc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use wfsim_engine::http::{HttpOutcome, OutboundRequest};

use crate::client::{self, Tls};
use crate::http::Shared;
use crate::message::ApiRequest;

/// How long a pull that found nothing waits before the next.
const IDLE: Duration = Duration::from_millis(200);
/// How long to wait before trying an emulator that did not answer again.
const RETRY: Duration = Duration::from_secs(1);

/// One `--trigger`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub project: String,
    pub topic: String,
    pub workflow: String,
}

impl Trigger {
    /// `pubsub:projects/P/topics/T=WORKFLOW`.
    pub fn parse(text: &str) -> Result<Trigger, String> {
        let usage = || {
            format!(
                "--trigger takes pubsub:projects/PROJECT/topics/TOPIC=WORKFLOW, got '{text}' \
                 (Pub/Sub is the one event source with a Google emulator; send others to \
                 POST /v1/wfsim/events)"
            )
        };
        let rest = text.strip_prefix("pubsub:").ok_or_else(usage)?;
        let (topic, workflow) = rest.split_once('=').ok_or_else(usage)?;
        match topic.split('/').collect::<Vec<_>>().as_slice() {
            ["projects", p, "topics", t] if !p.is_empty() && !t.is_empty() => {
                if !crate::api::is_workflow_id(workflow) {
                    return Err(format!(
                        "--trigger {text}: '{workflow}' is not a workflow id ({})",
                        crate::api::WORKFLOW_ID_RULE
                    ));
                }
                Ok(Trigger {
                    project: (*p).to_owned(),
                    topic: (*t).to_owned(),
                    workflow: workflow.to_owned(),
                })
            }
            _ => Err(usage()),
        }
    }

    pub fn topic_name(&self) -> String {
        format!("projects/{}/topics/{}", self.project, self.topic)
    }

    /// The trigger's own subscription, as Eventarc makes one per trigger.
    pub fn subscription_name(&self) -> String {
        format!(
            "projects/{}/subscriptions/wfsim-{}-{}",
            self.project, self.workflow, self.topic
        )
    }

    /// What the trigger is, for the start-up lines and `GET /v1/wfsim/triggers`.
    pub fn describe(&self) -> String {
        format!("pubsub:{}={}", self.topic_name(), self.workflow)
    }

    /// The CloudEvent Eventarc delivers for `received` (a `receivedMessages` entry of a
    /// pull): `google.cloud.pubsub.topic.v1.messagePublished`, the message in `data` as
    /// Pub/Sub's push format has it (`data` still base64). `None` for an entry without a
    /// message id.
    pub fn event(&self, received: &Json) -> Option<Json> {
        let message = &received["message"];
        let id = message["messageId"].as_str()?;
        let time = message["publishTime"].clone();
        let mut msg = json!({
            "messageId": id,
            "message_id": id,
            "publishTime": time,
            "publish_time": time,
        });
        for field in ["data", "attributes", "orderingKey"] {
            if let Some(v) = message.get(field) {
                msg[field] = v.clone();
            }
        }
        Some(json!({
            "specversion": "1.0",
            "id": id,
            "source": format!("//pubsub.googleapis.com/{}", self.topic_name()),
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "datacontenttype": "application/json",
            "time": time,
            "data": {"message": msg, "subscription": self.subscription_name()},
        }))
    }
}

/// Starts one pulling task per trigger on the server of `shared`. `host` is the Pub/Sub
/// emulator's `host:port`; `authorization` the header the route's requests carry (the
/// server's own token; `None` under `--no-auth`); `say` the operator's log.
pub fn start(
    shared: &Shared,
    triggers: Vec<Trigger>,
    host: String,
    authorization: Option<String>,
    say: Rc<dyn Fn(String)>,
) {
    for trigger in triggers {
        let (shared, host) = (shared.clone(), host.clone());
        let (authorization, say) = (authorization.clone(), Rc::clone(&say));
        tokio::task::spawn_local(async move {
            run(&shared, &trigger, &host, authorization.as_deref(), &*say).await;
        });
    }
}

/// A JSON request to the emulator; the answer's status and body, or why none came.
async fn call(host: &str, method: &str, path: &str, body: &Json) -> Result<(u16, Json), String> {
    let request = OutboundRequest {
        method: method.to_owned(),
        url: format!("http://{host}/v1/{path}"),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    };
    match client::fetch(&request, &Tls::default()).await {
        HttpOutcome::Response(r) => Ok((
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Json::Null),
        )),
        HttpOutcome::ConnectionFailed(e) | HttpOutcome::ConnectionError(e) => Err(e),
        HttpOutcome::Returned(_) => Err("no network answer (a host-carried call)".into()),
    }
}

/// The topic and the subscription, made if missing (409: already there). The deadline is
/// Pub/Sub's least, 10 s, so a message pulled by a server that crashed before taking it
/// comes back soon.
async fn ensure(host: &str, trigger: &Trigger) -> Result<(), String> {
    let topic = trigger.topic_name();
    let made = |what: &str, (status, body): (u16, Json)| match status {
        200 | 409 => Ok(()),
        _ => Err(format!("cannot create {what}: {status} {body}")),
    };
    made(&topic, call(host, "PUT", &topic, &json!({})).await?)?;
    let sub = trigger.subscription_name();
    let body = json!({"topic": topic, "ackDeadlineSeconds": 10});
    made(&sub, call(host, "PUT", &sub, &body).await?)
}

async fn run(
    shared: &Shared,
    trigger: &Trigger,
    host: &str,
    authorization: Option<&str>,
    say: &dyn Fn(String),
) {
    let what = trigger.describe();
    let mut last_problem = String::new();
    let mut problem = |p: String| {
        // Said once until it changes, not at every retry.
        if p != last_problem {
            say(format!("ERROR    trigger {what}: {p}; retrying"));
            last_problem = p;
        }
    };
    while let Err(e) = ensure(host, trigger).await {
        problem(format!("Pub/Sub emulator at {host}: {e}"));
        tokio::time::sleep(RETRY).await;
    }
    say(format!(
        "trigger {what}: pulling {}",
        trigger.subscription_name()
    ));
    let pull = format!("{}:pull", trigger.subscription_name());
    let ack = format!("{}:acknowledge", trigger.subscription_name());
    loop {
        let body = json!({"maxMessages": 10, "returnImmediately": true});
        let received = match call(host, "POST", &pull, &body).await {
            Ok((200, answer)) => answer["receivedMessages"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            Ok((status, answer)) => {
                problem(format!("pull: {status} {answer}"));
                tokio::time::sleep(RETRY).await;
                continue;
            }
            Err(e) => {
                problem(format!("pull: {e}"));
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if received.is_empty() {
            tokio::time::sleep(IDLE).await;
            continue;
        }
        let mut ack_ids = Vec::new();
        for r in &received {
            let Some(event) = trigger.event(r) else {
                continue;
            };
            let status = take(shared, trigger, authorization, &event);
            // Only what is on disk is acknowledged: a crash before redelivers it.
            if let Err(e) = shared.make_durable().await {
                problem(e);
                break;
            }
            match status {
                Ok(()) => {
                    if let Some(id) = r["ackId"].as_str() {
                        ack_ids.push(id.to_owned());
                    }
                }
                // Not acknowledged: redelivered after the deadline, taken once it can be.
                Err(reason) => problem(format!("message {}: {reason}", event["id"])),
            }
        }
        if !ack_ids.is_empty()
            && let Err(e) = call(host, "POST", &ack, &json!({"ackIds": ack_ids})).await
        {
            problem(format!("acknowledge: {e}"));
        }
    }
}

/// Hands `event` to the events route; `Err` the route's reason when it refused it.
fn take(
    shared: &Shared,
    trigger: &Trigger,
    authorization: Option<&str>,
    event: &Json,
) -> Result<(), String> {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if let Some(a) = authorization {
        headers.push(("Authorization".to_owned(), a.to_owned()));
    }
    let request = ApiRequest {
        method: "POST".into(),
        path: crate::api::EVENTS.into(),
        query: form_urlencoded::Serializer::new(String::new())
            .append_pair("workflow", &trigger.workflow)
            .finish(),
        headers,
        body: event.to_string().into_bytes(),
    };
    let now = shared.now();
    let response = shared.state.borrow_mut().handle(now, &request);
    shared.flush();
    shared.changed.notify_one();
    if response.status == 200 {
        Ok(())
    } else {
        Err(format!(
            "{} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_is_parsed_or_refused_with_the_form() {
        let t = Trigger::parse("pubsub:projects/p/topics/topic-callback=listener").unwrap();
        assert_eq!(t.topic_name(), "projects/p/topics/topic-callback");
        assert_eq!(
            t.subscription_name(),
            "projects/p/subscriptions/wfsim-listener-topic-callback"
        );
        for bad in [
            "projects/p/topics/t=w",
            "pubsub:projects/p/topics/t",
            "pubsub:projects/p/subs/t=w",
            "pubsub:projects/p/topics/t=Not A Workflow",
        ] {
            assert!(Trigger::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pulled_message_becomes_eventarcs_cloudevent() {
        let t = Trigger::parse("pubsub:projects/p/topics/t=w").unwrap();
        let received = json!({"ackId": "a", "message": {
            "data": "aGk=", "attributes": {"k": "v"}, "messageId": "7",
            "publishTime": "2026-12-06T18:00:00Z",
        }});
        let e = t.event(&received).unwrap();
        assert_eq!(e["id"], "7");
        assert_eq!(e["source"], "//pubsub.googleapis.com/projects/p/topics/t");
        assert_eq!(e["type"], "google.cloud.pubsub.topic.v1.messagePublished");
        assert_eq!(e["time"], "2026-12-06T18:00:00Z");
        assert_eq!(e["data"]["message"]["data"], "aGk=");
        assert_eq!(e["data"]["message"]["attributes"]["k"], "v");
        assert_eq!(e["data"]["message"]["messageId"], "7");
        assert_eq!(
            e["data"]["subscription"],
            "projects/p/subscriptions/wfsim-w-t"
        );
        assert!(t.event(&json!({"message": {}})).is_none());
    }
}
