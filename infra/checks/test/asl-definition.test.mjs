// The state machine definition as a document: valid ASL, and the contract of DESIGN §5.3 that a reviewer would
// otherwise check by eye.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import aslValidator from 'asl-validator';
import { DEFAULT_FUNCTION_ARN, loadDefinition, taskStateNames } from '../asl-runner.mjs';

const path = fileURLToPath(new URL('../../statemachines/workspace-operation.asl.json', import.meta.url));
const rawText = await readFile(path, 'utf8');
const definition = await loadDefinition(path);
const CLAIM_TTL_SECONDS = 1800;

const STEPS = {
  Begin: 'begin',
  StopOld: 'stop-old',
  StopExhausted: 'stop-exhausted',
  Write: 'write',
  Provision: 'provision',
  AwaitRunning: 'await-running',
  Commit: 'commit',
  Rollback: 'rollback',
};

test('asl-validator accepts the definition as committed and as deployed', () => {
  for (const candidate of [JSON.parse(rawText), definition]) {
    const { isValid, errorsText } = aslValidator(candidate, { checkArn: true, checkPaths: true });
    assert.ok(isValid, errorsText('\n'));
  }
});

test('the only substitution is ${StepsFunctionArn}', () => {
  const placeholders = [...new Set(rawText.match(/\$\{[^}]*\}/g))];
  assert.deepEqual(placeholders, ['${StepsFunctionArn}']);
});

test('the walk is Unwrap, then the six steps in order, with StopExhausted and Rollback beside them', () => {
  assert.equal(definition.StartAt, 'Unwrap');
  assert.equal(definition.States.Unwrap.Type, 'Pass');
  assert.equal(definition.States.Unwrap.Next, 'Begin');
  assert.deepEqual(taskStateNames(definition).sort(), Object.keys(STEPS).sort());
  const happyPath = [];
  for (let state = 'Begin'; definition.States[state].Type === 'Task';) {
    happyPath.push(state);
    const ok = definition.States[`${state}Outcome`].Choices.find((c) => c.StringEquals === 'ok');
    state = ok.Next;
  }
  assert.deepEqual(happyPath, ['Begin', 'StopOld', 'Write', 'Provision', 'AwaitRunning', 'Commit']);
});

test('every Task invokes the steps function with exactly {step, operation_id, execution_arn}', () => {
  for (const name of taskStateNames(definition)) {
    const state = definition.States[name];
    assert.equal(state.Resource, 'arn:aws:states:::lambda:invoke', name);
    assert.equal(state.Parameters.FunctionName, DEFAULT_FUNCTION_ARN, name);
    assert.deepEqual(state.Parameters.Payload, {
      step: STEPS[name],
      'operation_id.$': '$.operation_id',
      'execution_arn.$': '$$.Execution.Id',
    }, name);
    // the Lambda Web Adapter would take an event with these keys for an HTTP request
    for (const key of ['requestContext', 'httpMethod']) {
      assert.ok(!(key in state.Parameters.Payload), `${name} payload has ${key}`);
    }
  }
});

test('every Task retries infrastructure errors 2 s, 6 attempts in all, x2, and catches the rest into Rollback', () => {
  for (const name of taskStateNames(definition)) {
    const state = definition.States[name];
    assert.equal(state.Retry.length, 1, name);
    const [retry] = state.Retry;
    for (const error of ['States.TaskFailed', 'Lambda.ServiceException', 'Lambda.AWSLambdaException',
      'Lambda.SdkClientException', 'Lambda.TooManyRequestsException']) {
      assert.ok(retry.ErrorEquals.includes(error), `${name} does not retry ${error}`);
    }
    // MaxAttempts counts retries: 1 + 5 = the 6 attempts of DESIGN §5.2, as the local runner counts them
    assert.deepEqual([retry.IntervalSeconds, retry.MaxAttempts, retry.BackoffRate], [2, 5, 2], name);
    assert.equal(state.Catch.length, 1, name);
    assert.deepEqual(state.Catch[0].ErrorEquals, ['States.ALL'], name);
    assert.equal(state.Catch[0].Next, name === 'Rollback' ? 'RollbackFailed' : 'Rollback', name);
    // the caught error must not replace the state, or Rollback would lose the operation id
    assert.equal(state.Catch[0].ResultPath, '$.failure', name);
  }
});

test('after each Task a Choice routes every outcome; anything else is a Fail state', () => {
  for (const name of taskStateNames(definition)) {
    const choice = definition.States[`${name}Outcome`];
    assert.equal(choice.Type, 'Choice', name);
    assert.equal(definition.States[choice.Default].Type, 'Fail', name);
    const routes = Object.fromEntries(choice.Choices.map((c) => [c.StringEquals, c.Next]));
    assert.equal(routes.retry, `${name}Wait`, name);
    assert.equal(routes.abort, 'Aborted', name);
    assert.equal(definition.States[`${name}Wait`].SecondsPath, '$.answer.wait_seconds', name);
    assert.equal(definition.States[`${name}Wait`].Next, name, name);
    if (name !== 'Rollback') {
      assert.equal(routes.pending, `${name}Wait`, name);
      assert.equal(routes.failed, 'Rollback', name);
    }
  }
  assert.equal(definition.States.StopOldOutcome.Choices.find((c) => c.StringEquals === 'exhausted').Next, 'StopExhausted');
  assert.equal(definition.States.RollbackFailed.Type, 'Fail');
  assert.equal(definition.States.Aborted.Type, 'Succeed');
});

test('the state machine times out before the claim does', () => {
  assert.ok(definition.TimeoutSeconds > 0 && definition.TimeoutSeconds < CLAIM_TTL_SECONDS, String(definition.TimeoutSeconds));
});
