// Runs the real workspace-operation state machine in aws-local-stepfunctions, with every Task doing what the
// Lambda Web Adapter does in the operation-steps function: POST the Task's Payload as JSON to the step endpoint;
// a 5xx becomes a function error (the Task fails, so its Retry and Catch apply); a 200 body becomes the Task
// result, wrapped as the lambda:invoke integration wraps a function's answer.
import { readFile } from 'node:fs/promises';
import { StateMachine } from 'aws-local-stepfunctions';

export const FUNCTION_ARN_KEY = 'StepsFunctionArn';
export const DEFAULT_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:operation-steps';

/** Reads the ASL file and applies the one DefinitionSubstitution the template supplies. */
export async function loadDefinition(path, functionArn = DEFAULT_FUNCTION_ARN) {
  const text = await readFile(path, 'utf8');
  return substitute(text, { [FUNCTION_ARN_KEY]: functionArn });
}

/** Replaces ${Key} placeholders as CloudFormation's DefinitionSubstitutions do; a placeholder left over is an error. */
export function substitute(text, values) {
  const replaced = text.replace(/\$\{([A-Za-z0-9]+)\}/g, (whole, key) => {
    if (!(key in values)) {
      throw new Error(`the definition uses \${${key}}, which no substitution supplies`);
    }
    return values[key];
  });
  return JSON.parse(replaced);
}

/** The names of the definition's Task states. */
export function taskStateNames(definition) {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
}

/** An execution ARN of the workspace-operation state machine, as $$.Execution.Id carries it. */
export function executionArn(name, { region = 'us-east-1', account = '123456789012', stateMachine = 'workspace-operation' } = {}) {
  return `arn:aws:states:${region}:${account}:execution:${stateMachine}:${name}`;
}

/** An error thrown by a Task whose function failed (a 5xx from the step endpoint), as Step Functions names it. */
export class FunctionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'Lambda.Unknown';
  }
}

/**
 * The Task override: what the Lambda Web Adapter's pass-through does with a Step Functions invocation. The Task's
 * effective input is lambda:invoke's {FunctionName, Payload}; only the Payload reaches the function.
 */
export function stepInvoker(endpoint, record, { timeoutMs = 30_000 } = {}) {
  return async (input) => {
    const payload = input.Payload;
    let response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      record(payload.step, 'error');
      throw new FunctionError(`the step endpoint did not answer: ${error.message}`);
    }

    const text = await response.text();
    if (response.status >= 500) {
      record(payload.step, 'error');
      throw new FunctionError(`the step endpoint answered ${response.status}: ${text}`);
    }

    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }

    record(payload.step, response.status === 200 && body && typeof body.outcome === 'string' ? body.outcome : `http-${response.status}`);
    return { ExecutedVersion: '$LATEST', Payload: body, StatusCode: 200 };
  };
}

// building a StateMachine validates the definition, which takes longer than running it: once per definition
const machines = new WeakMap();

function machineOf(definition) {
  if (!machines.has(definition)) {
    machines.set(definition, new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } }));
  }
  return machines.get(definition);
}

/**
 * Runs one execution per name, all at once, each with its own $$.Execution.Id. Every Wait and every Retry pause
 * lasts waitMs (the steps say how long to wait; how long the test waits changes no outcome).
 * Resolves to one summary per execution: its ARN, status, last state entered, error, and (step, outcome) sequence.
 */
export async function runExecutions(definition, { endpoint, operationId, executionNames, waitMs = 0 }) {
  const machine = machineOf(definition);
  const waits = Object.fromEntries(
    Object.entries(definition.States).filter(([, state]) => state.Type === 'Wait').map(([name]) => [name, waitMs]));
  const tasks = taskStateNames(definition);
  return Promise.all(executionNames.map(async (name) => {
    const arn = executionArn(name);
    const steps = [];
    const invoke = stepInvoker(endpoint, (step, outcome) => steps.push({ step, outcome }));
    const execution = machine.run([{ operation_id: operationId }], {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(tasks.map((task) => [task, invoke])),
        waitTimeOverrides: waits,
        retryIntervalOverrides: Object.fromEntries(tasks.map((task) => [task, waitMs])),
      },
      context: { Execution: { Id: arn, Name: name } },
    });

    const states = [];
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') {
          states.push(event.state.name);
        }
      }
    })();

    let status = 'SUCCEEDED';
    let error = null;
    try {
      await execution.result;
    } catch (failure) {
      status = 'FAILED';
      error = failure.cause?.name ?? failure.name;
    }

    await collecting;
    return { execution_arn: arn, status, final_state: states.at(-1) ?? null, error, states, steps };
  }));
}
