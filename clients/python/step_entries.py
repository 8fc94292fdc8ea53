"""Google's discovery-based Python client (google-api-python-client, unmodified, with the
discovery documents it ships) reads a live execution's step entries from `wfsim serve`:
the Executions API's `stepEntries` are REST only, so this is how Python finds them.
Run by cli/tests/clients.rs:

    python step_entries.py http://127.0.0.1:PORT TOKEN

Exits non-zero, with the reason, at the first thing that is not as the API says.
"""

import sys

import requests
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

BASE, TOKEN = sys.argv[1], sys.argv[2]
PARENT = "projects/wfsim/locations/us-central1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# A loop, then an await that keeps the execution running while its entries are read.
SOURCE = """
main:
  steps:
    - init:
        assign:
          - total: 0
    - loop:
        for:
          value: v
          in: [1, 2, 3]
          steps:
            - add:
                assign:
                  - total: ${total + v}
    - create:
        call: events.create_callback_endpoint
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 600
        result: req
    - done:
        return: ${total}
"""


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def service(name):
    # static_discovery: the discovery document bundled with the pinned client.
    return build(
        name,
        "v1",
        credentials=Credentials(token=TOKEN),
        client_options={"api_endpoint": BASE},
        static_discovery=True,
    )


workflows = service("workflows").projects().locations().workflows()
executions = service("workflowexecutions").projects().locations().workflows().executions()
step_entries = executions.stepEntries()

deployed = workflows.create(
    parent=PARENT, workflowId="history", body={"sourceContents": SOURCE}
).execute()
check(deployed.get("done") is True, "deployed through the discovery-based Workflows client")
workflow = f"{PARENT}/workflows/history"

execution = executions.create(parent=workflow, body={}).execute()
check(execution["state"] == "ACTIVE", "an execution runs, awaiting its callback")
name = execution["name"]

# Every entry, four to a page: the client's list_next follows nextPageToken.
pages, entries = 0, []
request = step_entries.list(parent=name, pageSize=4)
while request is not None:
    page = request.execute()
    pages += 1
    entries += page.get("stepEntries", [])
    request = step_entries.list_next(request, page)
check(pages == 3, f"ten entries in pages of four: {pages} pages")
check(page["totalSize"] == 10, "totalSize counts every entry")
shown = [(e["entryId"], e["step"], e["stepType"]) for e in entries]
check(
    shown
    == [
        ("1", "init", "STEP_ASSIGN"),
        ("2", "loop", "STEP_FOR"),
        ("3", "loop", "STEP_FOR_ITERATION"),
        ("4", "add", "STEP_ASSIGN"),
        ("5", "loop", "STEP_FOR_ITERATION"),
        ("6", "add", "STEP_ASSIGN"),
        ("7", "loop", "STEP_FOR_ITERATION"),
        ("8", "add", "STEP_ASSIGN"),
        ("9", "create", "STEP_STD_LIB_CALL"),
        ("10", "wait", "STEP_STD_LIB_CALL"),
    ],
    "each step, and each iteration of the loop, is an entry",
)
check(entries[-1]["state"] == "STATE_IN_PROGRESS", "the await is in progress")
check(all(e["routine"] == "main" for e in entries), "every entry is main's")
check(entries[1]["navigationInfo"]["children"] == ["3", "5", "7"], "the loop's children are its iterations")
check(entries[3]["navigationInfo"] == {"parent": "3"}, "a body step's parent is its iteration")
check(entries[0]["name"] == f"{name}/stepEntries/1", "an entry's resource name")

iterations = step_entries.list(parent=name, filter='stepType="STEP_FOR_ITERATION" AND entryId>3').execute()
check(
    [e["stepEntryMetadata"]["progressNumber"] for e in iterations["stepEntries"]] == ["2", "3"],
    "filtered by type and id, numbered by their progress",
)
check(
    [e["entryId"] for e in step_entries.list(parent=name, orderBy="entryId desc", pageSize=2).execute()["stepEntries"]]
    == ["10", "9"],
    "ordered by entryId, newest first",
)
skipped = step_entries.list(parent=name, skip=8).execute()["stepEntries"]
check([e["entryId"] for e in skipped] == ["9", "10"], "skip passes over entries")

one = step_entries.get(name=f"{name}/stepEntries/10").execute()
check(one == entries[-1], "get gives the entry the list gave")
try:
    step_entries.get(name=f"{name}/stepEntries/99").execute()
    sys.exit("FAILED: a missing step entry was found")
except HttpError as e:
    check(e.resp.status == 404, "a missing entry is 404")
try:
    step_entries.list(parent=name, filter="colour=red").execute()
    sys.exit("FAILED: a bad filter was taken")
except HttpError as e:
    check(e.resp.status == 400 and "cannot be filtered on" in str(e), "a bad filter is 400 and says why")

# A DETAILED history keeps each entry's variables (variableData), given in the DETAILED view.
detailed = executions.create(
    parent=workflow, body={"executionHistoryLevel": "EXECUTION_HISTORY_DETAILED"}
).execute()
check(detailed["executionHistoryLevel"] == "EXECUTION_HISTORY_DETAILED", "an execution with a DETAILED history")
view = "EXECUTION_ENTRY_VIEW_DETAILED"
seen = step_entries.list(parent=detailed["name"], view=view).execute()["stepEntries"]
check(
    [e["variableData"]["variables"] for e in seen[2:6]] == [{"total": 1, "v": 1}] * 2 + [{"total": 3, "v": 2}] * 2,
    "each iteration's variables, and its step's, as they ended",
)
check(seen[1]["variableData"]["variables"] == {"total": 6}, "the loop's, its scope ended")
check(seen[-1]["variableData"]["variables"]["cb"]["url"].startswith(BASE), "the await in progress sees its callback")
check(seen[3]["stepEntryMetadata"] == {}, "a body step counts nothing")
check(seen[2]["stepEntryMetadata"]["expectedIteration"] == "3", "a DETAILED history's iterations say how many")
one = step_entries.get(name=seen[3]["name"], view=view).execute()
check(one == seen[3], "get gives the same variables")
basic_view = step_entries.list(parent=detailed["name"]).execute()["stepEntries"]
check(all("variableData" not in e for e in basic_view), "the BASIC view has none")
basic = step_entries.list(parent=name, view=view).execute()["stepEntries"]
check(all("variableData" not in e for e in basic), "a BASIC history has none, whatever the view")
executions.cancel(name=detailed["name"], body={}).execute()

# The callback ends the await: the live execution's entries update.
callbacks = requests.get(f"{BASE}/v1/{name}/callbacks", headers=AUTH, timeout=10).json()
sent = requests.post(f"{BASE}/v1/{callbacks['callbacks'][0]['name']}", json={}, headers=AUTH, timeout=10)
check(sent.status_code == 200, "the callback is taken")
done = executions.get(name=name).execute()
check(done["state"] == "SUCCEEDED" and done["result"] == "6", "the execution succeeded")
after = step_entries.list(parent=name, filter='state="SUCCEEDED"').execute()
check(after["totalSize"] == 11, "every entry succeeded, the return step's too")
check(after["stepEntries"][-1]["stepType"] == "STEP_RETURN", "the last is the return")
print("ALL OK")
