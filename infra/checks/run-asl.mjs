// Runs infra/statemachines/workspace-operation.asl.json against a running step endpoint and prints, as one JSON
// object on stdout, each execution's (step, outcome) sequence and final state. Used by the .NET equivalence test.
//
//   node --require ./polyfill.cjs run-asl.mjs --endpoint http://127.0.0.1:PORT/internal/steps \
//        --operation-id UUID --execution NAME [--execution NAME2 ...] [--wait-ms 0] [--definition PATH]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDefinition, runExecutions } from './asl-runner.mjs';

const defaultDefinition = fileURLToPath(new URL('../statemachines/workspace-operation.asl.json', import.meta.url));

const { values } = parseArgs({
  options: {
    definition: { type: 'string', default: defaultDefinition },
    endpoint: { type: 'string' },
    'operation-id': { type: 'string' },
    execution: { type: 'string', multiple: true },
    'wait-ms': { type: 'string', default: '0' },
  },
  strict: true,
});

if (!values.endpoint || !values['operation-id'] || !values.execution?.length) {
  process.stderr.write('usage: run-asl.mjs --endpoint URL --operation-id UUID --execution NAME [--execution NAME ...] [--wait-ms N] [--definition PATH]\n');
  process.exit(2);
}

const definition = await loadDefinition(values.definition);
const executions = await runExecutions(definition, {
  endpoint: values.endpoint,
  operationId: values['operation-id'],
  executionNames: values.execution,
  waitMs: Number(values['wait-ms']),
});
process.stdout.write(JSON.stringify({ executions }) + '\n');
