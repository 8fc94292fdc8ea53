//! `wfsim serve` driven over gRPC by a tonic client generated from the vendored protos, as
//! a Rust user of the Executions API would: create, get, list in pages, cancel, errors as
//! gRPC status codes, the bearer token in metadata.

mod common;
use common::Server;

use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use wfsim_client_tests::proto::google::cloud::workflows::executions::v1 as ex;

use ex::executions_client::ExecutionsClient;

/// Waits for a callback for an hour: ACTIVE until cancelled.
const WAITS: &str = "- make:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 3600\n";
/// Returns its argument at once.
const ECHO: &str = "main:\n  params: [a]\n  steps:\n    - done:\n        return: ${a}\n";

const PARENT: &str = "projects/p/locations/l/workflows";

/// A client whose every call carries `token` as a bearer token, if one is given.
async fn connect(
    server: &Server,
    token: Option<&str>,
) -> ExecutionsClient<tonic::service::interceptor::InterceptedService<Channel, Bearer>> {
    let channel = Channel::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer = Bearer(token.map(|t| format!("Bearer {t}").parse().unwrap()));
    ExecutionsClient::with_interceptor(channel, bearer)
}

/// Puts `authorization: Bearer TOKEN` in each call's metadata.
#[derive(Clone)]
struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

fn create(workflow: &str, argument: &str) -> ex::CreateExecutionRequest {
    ex::CreateExecutionRequest {
        parent: format!("{PARENT}/{workflow}"),
        execution: Some(ex::Execution {
            argument: argument.into(),
            ..Default::default()
        }),
    }
}

fn get(name: &str) -> ex::GetExecutionRequest {
    ex::GetExecutionRequest {
        name: name.into(),
        view: ex::ExecutionView::Full as i32,
    }
}

/// Create, get (with where it waits), cancel; a second cancel is FAILED_PRECONDITION.
#[tokio::test]
async fn create_get_and_cancel_over_grpc() {
    let server = Server::start(&[("waits", WAITS), ("echo", ECHO)]);
    let mut client = connect(&server, Some(&server.token)).await;
    let created = client
        .create_execution(create("waits", r#"{"n": 1}"#))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.state(), ex::execution::State::Active);
    assert_eq!(created.argument, r#"{"n": 1}"#);
    assert!(
        created
            .name
            .starts_with(&format!("{PARENT}/waits/executions/"))
    );
    assert!(created.start_time.is_some());

    let got = client
        .get_execution(get(&created.name))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.name, created.name);
    let steps: Vec<(String, String)> = got
        .status
        .unwrap()
        .current_steps
        .into_iter()
        .map(|s| (s.routine, s.step))
        .collect();
    assert_eq!(steps, [("main".to_owned(), "wait".to_owned())]);

    let cancelled = client
        .cancel_execution(ex::CancelExecutionRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state(), ex::execution::State::Cancelled);
    assert!(cancelled.end_time.is_some());
    let again = client
        .cancel_execution(ex::CancelExecutionRequest {
            name: created.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assert!(again.message().contains("CANCELLED"), "{}", again.message());
}

/// ListExecutions in pages of `page_size`, newest first, each execution once.
#[tokio::test]
async fn list_executions_in_pages_over_grpc() {
    let server = Server::start(&[("waits", WAITS), ("echo", ECHO)]);
    let mut client = connect(&server, Some(&server.token)).await;
    let mut created = Vec::new();
    for k in 0..5 {
        let e = client
            .create_execution(create("echo", &k.to_string()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(e.state(), ex::execution::State::Succeeded);
        assert_eq!(e.result, k.to_string());
        created.push(e.name);
    }
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_executions(ex::ListExecutionsRequest {
                parent: format!("{PARENT}/echo"),
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages.push(
            page.executions
                .into_iter()
                .map(|e| e.name)
                .collect::<Vec<_>>(),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 2, 1],
        "{pages:?}"
    );
    let listed: Vec<String> = pages.into_iter().flatten().collect();
    created.reverse();
    assert_eq!(listed, created, "newest first");
}

/// Errors come as gRPC status codes with the reason: NOT_FOUND, INVALID_ARGUMENT, and
/// UNAUTHENTICATED without a token or with a wrong one.
#[tokio::test]
async fn errors_are_grpc_status_codes() {
    let server = Server::start(&[("waits", WAITS), ("echo", ECHO)]);
    let mut client = connect(&server, Some(&server.token)).await;
    let missing = client
        .get_execution(get(&format!("{PARENT}/echo/executions/nope")))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert!(
        missing.message().contains("has no execution 'nope'"),
        "{}",
        missing.message()
    );
    let undeployed = client
        .create_execution(create("elsewhere", ""))
        .await
        .unwrap_err();
    assert_eq!(undeployed.code(), Code::NotFound, "{undeployed:?}");

    let bad = client
        .create_execution(create("echo", "{not json"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    assert!(bad.message().contains("'argument'"), "{}", bad.message());

    for token in [None, Some("wrong")] {
        let mut stranger = connect(&server, token).await;
        let denied = stranger
            .list_executions(ex::ListExecutionsRequest {
                parent: format!("{PARENT}/echo"),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            denied.code(),
            Code::Unauthenticated,
            "{token:?}: {denied:?}"
        );
        assert!(!denied.message().is_empty());
    }
}
