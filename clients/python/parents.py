"""Any project, as GCP does: Google's Python clients deploy to and run in `acme-prod` while
a folder's workflow runs in the default project, in one `wfsim serve`. The Executions client
uses the gRPC-only port (`--grpc-port`), as a client configured with separate ports does.
Run by cli/tests/clients.rs:

    python parents.py http://127.0.0.1:PORT 127.0.0.1:GRPC_PORT TOKEN

The folder holds `local.yaml` (WHERE below); the server's default parent is
projects/wfsim/locations/us-central1. Exits non-zero, with the reason, at the first thing
that is not as the API says.
"""

import json
import sys

import grpc
import requests
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.cloud import workflows_v1
from google.cloud.workflows import executions_v1
from google.cloud.workflows.executions_v1.services.executions.transports import (
    ExecutionsGrpcTransport,
)
from google.oauth2.credentials import Credentials

BASE, GRPC_ADDR, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]
DEFAULT = "projects/wfsim/locations/us-central1"
ACME = "projects/acme-prod/locations/europe-west1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
METADATA = [("authorization", f"Bearer {TOKEN}")]

# Says where it runs, waits for a callback, returns its body.
WHERE = """
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
        result: req
    - done:
        return:
          project: ${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}
          location: ${sys.get_env("GOOGLE_CLOUD_LOCATION")}
          body: ${req.http_request.body}
"""


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


workflows = workflows_v1.WorkflowsClient(
    credentials=Credentials(token=TOKEN),
    transport="rest",
    client_options=ClientOptions(api_endpoint=BASE),
)
executions = executions_v1.ExecutionsClient(
    transport=ExecutionsGrpcTransport(channel=grpc.insecure_channel(GRPC_ADDR))
)


def run(workflow_name, body):
    """Runs a workflow to its end: create over gRPC, the callback over REST."""
    started = executions.create_execution(parent=workflow_name, metadata=METADATA)
    check(started.name.startswith(workflow_name + "/executions/"), f"started in {workflow_name}")
    listed = requests.get(f"{BASE}/v1/{started.name}/callbacks", headers=AUTH, timeout=10).json()
    url = f"{BASE}/v1/{listed['callbacks'][0]['name']}"
    check(url.startswith(f"{BASE}/v1/{started.name}/callbacks/"), "its callback URL carries its parent")
    check(requests.post(url, json=body, headers=AUTH, timeout=10).status_code == 200, "callback taken")
    done = executions.get_execution(name=started.name, metadata=METADATA)
    check(done.state == executions_v1.Execution.State.SUCCEEDED, "SUCCEEDED")
    return started.name, json.loads(done.result)


# The folder's workflow is in the default project.
local = workflows.get_workflow(name=f"{DEFAULT}/workflows/local")
check(local.name == f"{DEFAULT}/workflows/local", "the folder's workflow is in the default project")

# Deploy to acme-prod through the Workflows API (REST).
deployed = workflows.create_workflow(
    parent=ACME,
    workflow=workflows_v1.Workflow(source_contents=WHERE),
    workflow_id="orders",
).result(timeout=10)
check(deployed.name == f"{ACME}/workflows/orders", "deployed to acme-prod")
check(deployed.revision_id.startswith("000001-"), "its first revision")

# Each project lists its own.
check([w.name for w in workflows.list_workflows(parent=ACME)] == [deployed.name], "acme-prod lists its own")
check(
    [w.name for w in workflows.list_workflows(parent=DEFAULT)] == [local.name],
    "the default project lists the folder's",
)

# Each runs where it lives, and knows it (sys.get_env).
acme_run, result = run(deployed.name, {"order": 7})
check(result == {"project": "acme-prod", "location": "europe-west1", "body": {"order": 7}}, "ran in acme-prod")
local_run, result = run(local.name, "hi")
check(result == {"project": "wfsim", "location": "us-central1", "body": "hi"}, "ran in the default project")

# Elsewhere it is not found, in GCP's words.
try:
    workflows.get_workflow(name=f"{DEFAULT}/workflows/orders")
    sys.exit("FAILED: acme-prod's workflow was found in the default project")
except exceptions.NotFound as e:
    check(f"Resource '{DEFAULT}/workflows/orders' was not found" in str(e), "NOT_FOUND in GCP's words (REST)")
try:
    executions.create_execution(parent=f"{ACME}/workflows/local", metadata=METADATA)
    sys.exit("FAILED: the folder's workflow ran in acme-prod")
except exceptions.NotFound as e:
    check(f"Resource '{ACME}/workflows/local' was not found" in str(e), "NOT_FOUND in GCP's words (gRPC)")
listed = executions.list_executions(parent=deployed.name, metadata=METADATA)
check([e.name for e in listed] == [acme_run], "acme-prod's executions listed there")

# The gRPC-only port refuses REST, saying where REST is.
refused = requests.get(f"http://{GRPC_ADDR}/v1/{ACME}/workflows", headers=AUTH, timeout=10)
check(refused.status_code == 400 and BASE in refused.text, "REST on the gRPC port is refused with the main port")
print("ALL OK")
