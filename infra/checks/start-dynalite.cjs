// Starts dynalite (an in-memory DynamoDB) on a free loopback port for the .NET dispatcher tests: prints
// {"port": N} once listening, and exits when its stdin closes, so it never outlives the test process that started it.
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.on('close', () => process.exit(0));
