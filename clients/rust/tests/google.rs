//! Google's own Rust clients (`google-cloud-workflows-v1`, `google-cloud-workflows-
//! executions-v1`, over REST) against `wfsim serve`, unmodified, as the guide's curl
//! walk-through does it: deploy a callback workflow, run it, send the callback with plain
//! HTTP, get the result, list, cancel. Opt-in: `cargo test -p wfsim-client-tests
//! --features google-clients` (their dependencies take long to build).
#![cfg(feature = "google-clients")]

mod common;
use common::Server;

use google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_gax::error::rpc::Code;
use google_cloud_lro::Poller;
use google_cloud_workflows_executions_v1::client::Executions;
use google_cloud_workflows_executions_v1::model::{Execution, execution::State};
use google_cloud_workflows_v1::client::Workflows;
use google_cloud_workflows_v1::model::Workflow;

/// The guide's basic callback workflow, shortened: log the URL, await, return the body.
const CALLBACK: &str = "main:
  params: [args]
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 3600
        result: req
    - done:
        return: ${req.http_request.body}
";

/// The printed token as the clients' credentials: a bearer token, nothing to fetch.
#[derive(Debug)]
struct Token(String);

impl CredentialsProvider for Token {
    async fn headers(
        &self,
        _: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, google_cloud_auth::errors::CredentialsError>
    {
        let mut headers = http::HeaderMap::new();
        let value = format!("Bearer {}", self.0)
            .parse()
            .expect("a header value");
        headers.insert(http::header::AUTHORIZATION, value);
        Ok(CacheableResource::New {
            entity_tag: EntityTag::new(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

#[tokio::test]
async fn googles_rust_clients_deploy_run_call_back_list_and_cancel() {
    // Without their default features the clients bring no TLS provider; reqwest wants one
    // installed even for http://.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = Server::start(&[]);
    let credentials = Credentials::from(Token(server.token.clone()));
    let workflows = Workflows::builder()
        .with_endpoint(&server.url)
        .with_credentials(credentials.clone())
        .build()
        .await
        .unwrap();
    let executions = Executions::builder()
        .with_endpoint(&server.url)
        .with_credentials(credentials)
        .build()
        .await
        .unwrap();

    let deployed = workflows
        .create_workflow()
        .set_parent("projects/p/locations/l")
        .set_workflow_id("callback")
        .set_workflow(Workflow::new().set_source_contents(CALLBACK))
        .poller()
        .until_done()
        .await
        .unwrap();
    assert_eq!(deployed.name, "projects/p/locations/l/workflows/callback");

    let parent = deployed.name.clone();
    let started = executions
        .create_execution()
        .set_parent(&parent)
        .set_execution(Execution::new().set_argument(r#"{"who": "Ada"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(started.state, State::Active);

    // The callback, as curl sends it: the endpoint from wfsim's callbacks list.
    let (status, list) = server
        .http("GET", &format!("/v1/{}/callbacks", started.name), "")
        .await;
    assert_eq!(status, 200, "{list}");
    let callbacks: serde_json::Value = serde_json::from_str(&list).unwrap();
    let callback = format!(
        "/v1/{}",
        callbacks["callbacks"][0]["name"].as_str().unwrap()
    );
    let (status, body) = server
        .http("POST", &callback, r#"{"approved": true}"#)
        .await;
    assert_eq!((status, body.as_str()), (200, "{}"));

    let done = executions
        .get_execution()
        .set_name(&started.name)
        .send()
        .await
        .unwrap();
    assert_eq!(done.state, State::Succeeded);
    assert_eq!(done.result, r#"{"approved":true}"#);
    assert!(done.end_time.is_some());

    let waiting = executions
        .create_execution()
        .set_parent(&parent)
        .send()
        .await
        .unwrap();
    let listed = executions
        .list_executions()
        .set_parent(&parent)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed.executions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [waiting.name.as_str(), started.name.as_str()],
        "newest first"
    );

    let cancelled = executions
        .cancel_execution()
        .set_name(&waiting.name)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.state, State::Cancelled);

    let missing = executions
        .get_execution()
        .set_name(format!("{parent}/executions/nope"))
        .send()
        .await
        .unwrap_err();
    let status = missing.status().expect("a status");
    assert_eq!(status.code, Code::NotFound, "{missing:?}");
    assert!(status.message.contains("nope"), "{}", status.message);
}
