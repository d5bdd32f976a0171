// The state machine's routing, run in aws-local-stepfunctions against a scripted step endpoint: what each outcome,
// crash and broken answer leads to. The .NET equivalence test runs the same definition against the real endpoint.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { executionArn, loadDefinition, runExecutions } from '../asl-runner.mjs';

const definition = await loadDefinition(fileURLToPath(new URL('../../statemachines/workspace-operation.asl.json', import.meta.url)));
const OPERATION_ID = '0190a1b2-0000-7000-8000-0000000000aa';

// each test sets the script: step → list of answers ({outcome, wait_seconds} or {status}); the last one repeats
let script = {};
let calls = {};
let received = [];
const server = createServer(async (request, response) => {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
  }

  const payload = JSON.parse(text);
  received.push(payload);
  const answers = script[payload.step] ?? [{ outcome: 'ok' }];
  const index = calls[payload.step] = (calls[payload.step] ?? -1) + 1;
  const answer = answers[Math.min(index, answers.length - 1)];
  if (answer.status) {
    response.writeHead(answer.status, { 'content-type': 'application/problem+json' });
    response.end(JSON.stringify({ error: 'INTERNAL' }));
    return;
  }

  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ outcome: answer.outcome, wait_seconds: answer.wait_seconds ?? null, error: answer.error ?? null }));
});

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

after(() => server.close());

async function run(steps, names = ['run']) {
  script = steps;
  calls = {};
  received = [];
  const endpoint = `http://127.0.0.1:${server.address().port}/internal/steps`;
  return runExecutions(definition, { endpoint, operationId: OPERATION_ID, executionNames: names, waitMs: 0 });
}

const pairs = (execution) => execution.steps.map(({ step, outcome }) => `${step}:${outcome}`);

test('the happy path walks the six steps and succeeds', async () => {
  const [execution] = await run({});

  assert.deepEqual(pairs(execution), ['begin:ok', 'stop-old:ok', 'write:ok', 'provision:ok', 'await-running:ok', 'commit:ok']);
  assert.equal(execution.status, 'SUCCEEDED');
  assert.equal(execution.final_state, 'Succeeded');
});

test('every Task payload carries the step, the unwrapped operation id and the execution ARN, and nothing else', async () => {
  const [execution] = await run({}, ['payload-check']);

  assert.equal(received.length, 6);
  for (const payload of received) {
    assert.deepEqual(Object.keys(payload).sort(), ['execution_arn', 'operation_id', 'step']);
    assert.equal(payload.operation_id, OPERATION_ID);
    assert.equal(payload.execution_arn, executionArn('payload-check'));
  }
  assert.equal(execution.execution_arn, executionArn('payload-check'));
});

test('retry and pending wait and call the same step again', async () => {
  const [execution] = await run({
    'stop-old': [{ outcome: 'retry', wait_seconds: 1 }, { outcome: 'ok' }],
    'await-running': [{ outcome: 'pending', wait_seconds: 5 }, { outcome: 'pending', wait_seconds: 5 }, { outcome: 'ok' }],
  });

  assert.deepEqual(pairs(execution), ['begin:ok', 'stop-old:retry', 'stop-old:ok', 'write:ok', 'provision:ok',
    'await-running:pending', 'await-running:pending', 'await-running:ok', 'commit:ok']);
  assert.ok(execution.states.includes('StopOldWait') && execution.states.includes('AwaitRunningWait'));
});

test('stop-old exhausted goes to stop-exhausted, then on to write', async () => {
  const [execution] = await run({ 'stop-old': [{ outcome: 'exhausted', error: 'terminate failed' }] });

  assert.deepEqual(pairs(execution).slice(0, 4), ['begin:ok', 'stop-old:exhausted', 'stop-exhausted:ok', 'write:ok']);
  assert.equal(execution.final_state, 'Succeeded');
});

test('failed goes to rollback, and a finished rollback ends in RolledBack', async () => {
  const [execution] = await run({ provision: [{ outcome: 'failed', error: 'no capacity' }] });

  assert.deepEqual(pairs(execution), ['begin:ok', 'stop-old:ok', 'write:ok', 'provision:failed', 'rollback:ok']);
  assert.equal(execution.status, 'FAILED');
  assert.equal(execution.final_state, 'RolledBack');
});

test('abort ends the execution in Aborted, calling nothing more', async () => {
  const [execution] = await run({ begin: [{ outcome: 'abort', error: 'operation is already running under another execution' }] });

  assert.deepEqual(pairs(execution), ['begin:abort']);
  assert.equal(execution.status, 'SUCCEEDED');
  assert.equal(execution.final_state, 'Aborted');
});

test('a 5xx is retried by the Task, and the walk continues where it was', async () => {
  const [execution] = await run({ write: [{ status: 500 }, { status: 503 }, { outcome: 'ok' }] });

  assert.deepEqual(pairs(execution), ['begin:ok', 'stop-old:ok', 'write:error', 'write:error', 'write:ok',
    'provision:ok', 'await-running:ok', 'commit:ok']);
  assert.equal(execution.final_state, 'Succeeded');
});

test('a step that crashes on all 6 attempts is caught into Rollback', async () => {
  const [execution] = await run({ provision: [{ status: 500 }] });

  assert.deepEqual(pairs(execution), ['begin:ok', 'stop-old:ok', 'write:ok',
    ...Array(6).fill('provision:error'), 'rollback:ok']);
  assert.equal(execution.final_state, 'RolledBack');
});

test('a rollback that crashes on every attempt ends in RollbackFailed, where an operator finds it', async () => {
  const [execution] = await run({ commit: [{ outcome: 'failed', error: 'x' }], rollback: [{ status: 500 }] });

  assert.deepEqual(pairs(execution).slice(-7), ['commit:failed', ...Array(6).fill('rollback:error')]);
  assert.equal(execution.status, 'FAILED');
  assert.equal(execution.final_state, 'RollbackFailed');
  assert.equal(execution.error, 'Molecule.RollbackFailed');
});

test('a rollback that asks to retry waits and rolls back again', async () => {
  const [execution] = await run({ begin: [{ outcome: 'failed' }], rollback: [{ outcome: 'retry', wait_seconds: 2 }, { outcome: 'ok' }] });

  assert.deepEqual(pairs(execution), ['begin:failed', 'rollback:retry', 'rollback:ok']);
  assert.equal(execution.final_state, 'RolledBack');
});

test('an outcome no Choice knows stops loudly in UnknownOutcome instead of looping', async () => {
  const [execution] = await run({ provision: [{ outcome: 'exhausted' }] });

  assert.deepEqual(pairs(execution).at(-1), 'provision:exhausted');
  assert.equal(execution.status, 'FAILED');
  assert.equal(execution.final_state, 'UnknownOutcome');
});

test('an answer that is not the step contract fails the execution at once', async () => {
  script = {};
  const brokenServer = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: 'ok' }));
  });
  brokenServer.listen(0, '127.0.0.1');
  await once(brokenServer, 'listening');
  try {
    const [execution] = await runExecutions(definition, {
      endpoint: `http://127.0.0.1:${brokenServer.address().port}/internal/steps`,
      operationId: OPERATION_ID,
      executionNames: ['broken'],
    });

    assert.equal(execution.status, 'FAILED');
    assert.deepEqual(execution.states, ['Unwrap', 'Begin']);
  } finally {
    brokenServer.close();
  }
});
