"""Google's Python client libraries, unmodified, against `wfsim serve --clock manual`.

The Workflows client speaks REST (as it does against Google: `$alt=json;enum-encoding=int`,
long-running operations); the Executions client speaks only gRPC, here over an insecure
channel with the token in metadata. Run by cli/tests/clients.rs:

    python walkthrough.py http://127.0.0.1:PORT TOKEN

Exits non-zero, with the reason, at the first thing that is not as the API says.
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

BASE, TOKEN = sys.argv[1], sys.argv[2]
PARENT = "projects/wfsim/locations/us-central1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
METADATA = [("authorization", f"Bearer {TOKEN}")]

# Creates a callback endpoint, logs its URL, waits up to 12 hours for a request.
SOURCE = """
main:
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
          timeout: 43200
        result: req
    - done:
        return: ${req.http_request.body}
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
channel = grpc.insecure_channel(BASE.removeprefix("http://"))
executions = executions_v1.ExecutionsClient(transport=ExecutionsGrpcTransport(channel=channel))

# Deploy through the Workflows API (REST); the operation is done on the first look.
operation = workflows.create_workflow(
    parent=PARENT,
    workflow=workflows_v1.Workflow(source_contents=SOURCE, labels={"team": "ops"}),
    workflow_id="approval",
)
workflow = operation.result(timeout=10)
check(workflow.name == f"{PARENT}/workflows/approval", "deployed with the REST client")
check(workflow.state == workflows_v1.Workflow.State.ACTIVE, "the workflow is ACTIVE")
revision = workflow.revision_id
check(revision.startswith("000001-"), f"revision id {revision}")

try:
    workflows.create_workflow(
        parent=PARENT,
        workflow=workflows_v1.Workflow(source_contents="main:\n  steps:\n    - a:\n        asign: []\n"),
        workflow_id="broken",
    ).result()
    sys.exit("FAILED: a broken definition was deployed")
except exceptions.BadRequest as e:
    check("broken.yaml:4:9" in str(e), "a deploy error names line and column")

# Run it through the Executions API (gRPC), deliver its callback over HTTP.
first = executions.create_execution(
    parent=workflow.name,
    execution=executions_v1.Execution(argument=json.dumps({"order": 7}), labels={"k": "v"}),
    metadata=METADATA,
)
check(first.state == executions_v1.Execution.State.ACTIVE, "created ACTIVE over gRPC")
check(first.workflow_revision_id == revision, "the execution records its revision")
check(dict(first.labels) == {"k": "v"}, "labels kept")
callbacks = requests.get(f"{BASE}/v1/{first.name}/callbacks", headers=AUTH, timeout=10).json()
url = f"{BASE}/v1/{callbacks['callbacks'][0]['name']}"
sent = requests.post(url, json={"approved": True}, headers=AUTH, timeout=10)
check(sent.status_code == 200, "the callback is taken (200)")
done = executions.get_execution(name=first.name, metadata=METADATA)
check(done.state == executions_v1.Execution.State.SUCCEEDED, "SUCCEEDED after the callback")
check(json.loads(done.result) == {"approved": True}, "the result is the callback's body")
again = requests.post(url, json={"approved": False}, headers=AUTH, timeout=10)
check(again.status_code == 404, "a callback after the end is 404")

# A 12-hour timeout, without waiting 12 hours: the clock API moves time.
second = executions.create_execution(parent=workflow.name, metadata=METADATA)
moved = requests.post(f"{BASE}/v1/wfsim/clock:advance", json={"seconds": 43200}, headers=AUTH, timeout=10)
check(moved.status_code == 200, "the clock moved 12 hours")
timed_out = executions.get_execution(name=second.name, metadata=METADATA)
check(timed_out.state == executions_v1.Execution.State.FAILED, "FAILED at the await's timeout")
check("TimeoutError" in timed_out.error.payload, "with TimeoutError")
check(timed_out.duration.total_seconds() == 43200, "after exactly 43200 s")
where = timed_out.error.stack_trace.elements[0]
check((where.step, where.routine, where.position.line) == ("wait", "main", 9), "the error says where (stackTrace)")

# Cancel, list in pages (the pager follows nextPageToken), errors as gRPC statuses.
third = executions.create_execution(parent=workflow.name, metadata=METADATA)
cancelled = executions.cancel_execution(name=third.name, metadata=METADATA)
check(cancelled.state == executions_v1.Execution.State.CANCELLED, "cancelled")
listed = executions.list_executions(
    request=executions_v1.ListExecutionsRequest(parent=workflow.name, page_size=1),
    metadata=METADATA,
)
names = [e.name for e in listed]
check(names == [third.name, second.name, first.name], "listed newest first, one per page")
failed = executions.list_executions(
    request=executions_v1.ListExecutionsRequest(parent=workflow.name, filter='state="FAILED"'),
    metadata=METADATA,
)
check([e.name for e in failed] == [second.name], "filtered by state")
try:
    executions.get_execution(name=f"{workflow.name}/executions/nope", metadata=METADATA)
    sys.exit("FAILED: a missing execution was found")
except exceptions.NotFound:
    check(True, "a missing execution is NOT_FOUND")
try:
    executions.get_execution(name=first.name)
    sys.exit("FAILED: a call without a token was answered")
except exceptions.Unauthenticated:
    check(True, "no token is UNAUTHENTICATED")

# Revise and delete through the Workflows API.
updated = workflows.update_workflow(
    workflow=workflows_v1.Workflow(name=workflow.name, source_contents=SOURCE.replace("43200", "60")),
).result()
check(updated.revision_id.startswith("000002-"), "a new source is a new revision")
revisions = workflows.list_workflow_revisions(
    request=workflows_v1.ListWorkflowRevisionsRequest(name=workflow.name)
)
check([w.revision_id for w in revisions] == [updated.revision_id, revision], "revisions newest first")
workflows.delete_workflow(name=workflow.name).result()
try:
    workflows.get_workflow(name=workflow.name)
    sys.exit("FAILED: a deleted workflow was found")
except exceptions.NotFound:
    check(True, "deleted")
print("ALL OK")
