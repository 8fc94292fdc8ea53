// Google's Node.js client libraries, unmodified, against `wfsim serve --clock manual`: the
// same round trip as clients/python/walkthrough.py, once over gRPC and once over REST.
//
// The Workflows client comes from @google-cloud/workflows 4.4.0 (the last release that ships
// it), the Executions client from 5.x; package.json pins both through npm aliases. Run by
// cli/tests/node_clients.rs:
//
//     node walkthrough.js http://127.0.0.1:PORT TOKEN
//
// Prints "ok: ..." per check and "ALL OK" at the end; exits non-zero, with the reason, at the
// first thing that is not as the API says.
//
// How the clients are pointed at wfsim (the server takes `authorization: Bearer TOKEN`):
// Both transports get `authClient`: google-auth-library's OAuth2Client holding the token as
// its access token (`setCredentials({access_token: TOKEN})`). Without it gax builds a
// GoogleAuth that looks for Application Default Credentials and probes the GCE metadata
// server, which is neither here nor wanted in a test.
// - gRPC: `{apiEndpoint: HOST, port: PORT, sslCreds: grpc.credentials.createInsecure(),
//   authClient}`. With `sslCreds` set, gax uses it as the channel's credentials as they are
//   and never asks authClient for a token. It cannot compose a token into them instead:
//   grpc-js refuses call credentials on insecure channel credentials ("Cannot compose
//   insecure credentials"). So each call carries the token itself, as metadata, through
//   gax's call options: `{otherArgs: {headers: {authorization: 'Bearer TOKEN'}}}`.
// - REST: `{apiEndpoint: HOST, port: PORT, protocol: 'http', fallback: 'rest', authClient}`:
//   gax sends every REST request through `authClient.fetch`, which adds the header, as it
//   does against Google. No per-call options are needed.
//
// The child workflow step: a parent runs a child through the Workflow Executions connector
// (HT-10); the child's callback, found over the API, is what lets both end.

'use strict';

const {grpc} = require('google-gax');
const {OAuth2Client} = require('google-auth-library');
const {WorkflowsClient, protos: v4} = require('workflows-v4');
const {ExecutionsClient, protos: v5} = require('workflows-v5');

// The enums, by name and by number (pbjs's static modules have both).
const WorkflowState = v4.google.cloud.workflows.v1.Workflow.State;
const ExecutionState = v5.google.cloud.workflows.executions.v1.Execution.State;

const [BASE, TOKEN] = process.argv.slice(2);
if (!BASE || !TOKEN) {
  fail('usage: node walkthrough.js http://HOST:PORT TOKEN');
}
const {hostname: HOST, port: PORT} = new URL(BASE);
const PARENT = 'projects/wfsim/locations/us-central1';
const HEADERS = {authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json'};

// Runs the child workflow CHILD through the Workflow Executions connector (HT-10) and
// returns what it returns.
const PARENT_SOURCE = `
main:
  steps:
    - run_child:
        call: googleapis.workflowexecutions.v1.projects.locations.workflows.executions.run
        args:
          workflow_id: CHILD
        result: r
    - done:
        return: \${r}
`;

// Creates a callback endpoint and waits up to 12 hours for a request.
const SOURCE = `
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
          callback: \${cb}
          timeout: 43200
        result: req
    - done:
        return: \${req.http_request.body}
`;

function fail(why) {
  console.log(`FAILED: ${why}`);
  process.exit(1);
}

function check(cond, what) {
  if (!cond) {
    fail(what);
  }
  console.log(`ok: ${what}`);
}

// The enums come back as names or numbers depending on the transport; compare by name.
function stateName(enumType, value) {
  return typeof value === 'number' ? enumType[value] : value;
}

async function rest(method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {status: response.status, json: text ? JSON.parse(text) : {}};
}

// A promise expected to reject: over gRPC with the gRPC status `code.grpc`; over REST with the
// HTTP status `code.rest`. gax 5.0's REST transport hands on gaxios's error as it is, its
// `code` the HTTP status (googleapis/google-cloud-node#9346 maps it to gRPC codes later), its
// message the response body, so the status's name is checked there.
async function rejects(transport, promise, code, what) {
  try {
    await promise;
  } catch (e) {
    const expected = code[transport];
    // Over gRPC, `details` is the status message, which must say something.
    const said =
      transport === 'grpc' ? e.details !== '' : e.message.includes(`"status": "${code.name}"`);
    check(e.code === expected && said, `${what} (${e.code}: ${e.message.replace(/\s+/g, ' ')})`);
    return e;
  }
  fail(`${what}: it succeeded`);
}
const INVALID_ARGUMENT = {grpc: 3, rest: 400, name: 'INVALID_ARGUMENT'};
const NOT_FOUND = {grpc: 5, rest: 404, name: 'NOT_FOUND'};
const UNAUTHENTICATED = {grpc: 16, rest: 401, name: 'UNAUTHENTICATED'};

async function roundTrip(transport) {
  const authClient = new OAuth2Client();
  authClient.setCredentials({access_token: TOKEN});
  const endpoint = {apiEndpoint: HOST, port: Number(PORT), authClient};
  const opts =
    transport === 'grpc'
      ? {...endpoint, sslCreds: grpc.credentials.createInsecure()}
      : {...endpoint, protocol: 'http', fallback: 'rest'};
  // Per-call options: the token over gRPC (see the top of the file); nothing over REST.
  const call =
    transport === 'grpc' ? {otherArgs: {headers: {authorization: `Bearer ${TOKEN}`}}} : {};
  const workflows = new WorkflowsClient(opts);
  const executions = new ExecutionsClient(opts);
  const say = what => `${what} [${transport}]`;
  const id = `approval-${transport}`;

  // Deploy through the Workflows API; the long-running operation is done on the first look.
  const [operation] = await workflows.createWorkflow(
    {parent: PARENT, workflowId: id, workflow: {sourceContents: SOURCE, labels: {team: 'ops'}}},
    call,
  );
  const [workflow] = await operation.promise();
  check(workflow.name === `${PARENT}/workflows/${id}`, say('deployed with the Workflows client'));
  check(stateName(WorkflowState, workflow.state) === 'ACTIVE', say('the workflow is ACTIVE'));
  const revision = workflow.revisionId;
  check(revision.startsWith('000001-'), say(`revision id ${revision}`));
  check(workflow.labels.team === 'ops', say('workflow labels kept'));
  const broken = await rejects(
    transport,
    workflows
      .createWorkflow(
        {
          parent: PARENT,
          workflowId: `broken-${transport}`,
          workflow: {sourceContents: 'main:\n  steps:\n    - a:\n        asign: []\n'},
        },
        call,
      )
      .then(([op]) => op.promise()),
    INVALID_ARGUMENT,
    say('a broken definition is INVALID_ARGUMENT'),
  );
  check(broken.message.includes(`broken-${transport}.yaml:4:9`), say('a deploy error names line and column'));

  // Run it through the Executions API; deliver its callback over HTTP.
  const [first] = await executions.createExecution(
    {parent: workflow.name, execution: {argument: JSON.stringify({order: 7}), labels: {k: 'v'}}},
    call,
  );
  check(stateName(ExecutionState, first.state) === 'ACTIVE', say('created ACTIVE'));
  check(first.workflowRevisionId === revision, say('the execution records its revision'));
  check(JSON.stringify(first.labels) === '{"k":"v"}', say('execution labels kept'));
  const callbacks = await rest('GET', `/v1/${first.name}/callbacks`);
  check(callbacks.status === 200 && callbacks.json.callbacks.length === 1, say('one callback listed'));
  const url = `/v1/${callbacks.json.callbacks[0].name}`;
  const sent = await rest('POST', url, {approved: true});
  check(sent.status === 200, say('the callback is taken (200)'));
  const [done] = await executions.getExecution({name: first.name}, call);
  check(stateName(ExecutionState, done.state) === 'SUCCEEDED', say('SUCCEEDED after the callback'));
  check(JSON.stringify(JSON.parse(done.result)) === '{"approved":true}', say("the result is the callback's body"));
  const again = await rest('POST', url, {approved: false});
  check(again.status === 404, say('a callback after the end is 404'));

  // A 12-hour timeout, without waiting 12 hours: the clock API moves time.
  const [second] = await executions.createExecution({parent: workflow.name}, call);
  const moved = await rest('POST', '/v1/wfsim/clock:advance', {seconds: 43200});
  check(moved.status === 200, say('the clock moved 12 hours'));
  const [timedOut] = await executions.getExecution({name: second.name}, call);
  check(stateName(ExecutionState, timedOut.state) === 'FAILED', say("FAILED at the await's timeout"));
  check(timedOut.error.payload.includes('TimeoutError'), say('with TimeoutError'));
  check(Number(timedOut.duration.seconds) === 43200, say('after exactly 43200 s'));
  const where = timedOut.error.stackTrace.elements[0];
  check(
    where.step === 'wait' && where.routine === 'main' && Number(where.position.line) === 9,
    say('the error says where (stackTrace)'),
  );

  // Cancel; list in pages of one, by hand (nextPageToken) and with the async iterator.
  const [third] = await executions.createExecution({parent: workflow.name}, call);
  const [cancelled] = await executions.cancelExecution({name: third.name}, call);
  check(stateName(ExecutionState, cancelled.state) === 'CANCELLED', say('cancelled'));
  const expected = [third.name, second.name, first.name];
  const paged = [];
  let pageToken = '';
  let pages = 0;
  do {
    const [page, , response] = await executions.listExecutions(
      {parent: workflow.name, pageSize: 1, pageToken},
      {...call, autoPaginate: false},
    );
    check(page.length === 1, say(`page ${++pages} has one execution`));
    paged.push(...page.map(e => e.name));
    pageToken = response.nextPageToken;
  } while (pageToken);
  check(JSON.stringify(paged) === JSON.stringify(expected), say('listed newest first, following nextPageToken'));
  const iterated = [];
  const pager = executions.listExecutionsAsync({parent: workflow.name, pageSize: 1}, {...call, autoPaginate: false});
  for await (const e of pager) {
    iterated.push(e.name);
  }
  check(JSON.stringify(iterated) === JSON.stringify(expected), say('the async iterator reads every page'));
  const [failed] = await executions.listExecutions({parent: workflow.name, filter: 'state="FAILED"'}, call);
  check(JSON.stringify(failed.map(e => e.name)) === JSON.stringify([second.name]), say('filtered by state'));
  await rejects(
    transport,
    executions.getExecution({name: `${workflow.name}/executions/nope`}, call),
    NOT_FOUND,
    say('a missing execution is NOT_FOUND'),
  );
  if (transport === 'grpc') {
    // Without the per-call metadata, the insecure channel carries no token at all.
    await rejects(
      transport,
      executions.getExecution({name: first.name}),
      UNAUTHENTICATED,
      say('no token is UNAUTHENTICATED'),
    );
  } else {
    const wrong = new OAuth2Client();
    wrong.setCredentials({access_token: `${TOKEN}-not`});
    const stranger = new ExecutionsClient({...opts, authClient: wrong});
    await rejects(
      transport,
      stranger.getExecution({name: first.name}),
      UNAUTHENTICATED,
      say('a wrong token is UNAUTHENTICATED'),
    );
    await stranger.close();
  }

  // A child workflow (HT-10): the parent runs it through the Workflow Executions connector
  // and blocks; the child is a real execution, listed under its own workflow, whose
  // callback lets it, then its parent, end.
  const childId = `child-${transport}`;
  const parentId = `parent-${transport}`;
  for (const [name, source] of [
    [childId, SOURCE],
    [parentId, PARENT_SOURCE.replace('CHILD', childId)],
  ]) {
    const [op] = await workflows.createWorkflow(
      {parent: PARENT, workflowId: name, workflow: {sourceContents: source}},
      call,
    );
    await op.promise();
  }
  const [parentRun] = await executions.createExecution(
    {parent: `${PARENT}/workflows/${parentId}`},
    call,
  );
  check(stateName(ExecutionState, parentRun.state) === 'ACTIVE', say('the parent waits for its child'));
  const [children] = await executions.listExecutions({parent: `${PARENT}/workflows/${childId}`}, call);
  check(
    children.length === 1 && stateName(ExecutionState, children[0].state) === 'ACTIVE',
    say('the child is an execution of its own, ACTIVE'),
  );
  const childCallbacks = await rest('GET', `/v1/${children[0].name}/callbacks`);
  const answered = await rest('POST', `/v1/${childCallbacks.json.callbacks[0].name}`, {approved: 'child'});
  check(answered.status === 200, say("the child's callback is taken (200)"));
  const [parentDone] = await executions.getExecution({name: parentRun.name}, call);
  check(stateName(ExecutionState, parentDone.state) === 'SUCCEEDED', say('the parent SUCCEEDED'));
  check(
    JSON.stringify(JSON.parse(parentDone.result)) === '{"approved":"child"}',
    say("the parent's result is its child's"),
  );
  for (const name of [parentId, childId]) {
    const [op] = await workflows.deleteWorkflow({name: `${PARENT}/workflows/${name}`}, call);
    await op.promise();
  }

  // Revise and delete through the Workflows API.
  const [update] = await workflows.updateWorkflow(
    {workflow: {name: workflow.name, sourceContents: SOURCE.replace('43200', '60')}},
    call,
  );
  const [updated] = await update.promise();
  check(updated.revisionId.startsWith('000002-'), say('a new source is a new revision'));
  const [revisions] = await workflows.listWorkflowRevisions({name: workflow.name}, call);
  check(
    JSON.stringify(revisions.map(w => w.revisionId)) === JSON.stringify([updated.revisionId, revision]),
    say('revisions newest first'),
  );
  const [deletion] = await workflows.deleteWorkflow({name: workflow.name}, call);
  await deletion.promise();
  const gone = await rejects(
    transport,
    workflows.getWorkflow({name: workflow.name}, call),
    NOT_FOUND,
    say('deleted'),
  );
  check(gone.message.includes(`/workflows/${id}' was not found`), say('the NOT_FOUND names the workflow, in GCP\'s words'));

  await workflows.close();
  await executions.close();
}

(async () => {
  await roundTrip('grpc');
  await roundTrip('rest');
  console.log('ALL OK');
})().catch(e => fail(`unexpected: ${e && e.stack ? e.stack : e}`));
