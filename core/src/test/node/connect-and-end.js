// A client that connects and ends in the same tick, as node-postgres's own suite does: it may write
// Terminate before its startup message. Postgres closes such a connection without a word; an
// ErrorResponse instead reaches the client as an 'error' event nobody listens to.
// Usage: node connect-and-end.js PORT USER OPTIONS ROUNDS; prints the number of unhandled errors.
const { Client } = require('pg');
const [port, user, options, rounds] = process.argv.slice(2);
let unhandled = 0;
process.on('uncaughtException', (e) => { unhandled++; console.error('unhandled: ' + e.message); });
(async () => {
  for (let i = 0; i < Number(rounds); i++) {
    const client = new Client({ host: '127.0.0.1', port: Number(port), user, database: 'postgres', options });
    client.connect(() => {});
    const ended = new Promise((resolve) => client.end(resolve));
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 50)); // lets a late error event surface
  }
  console.log(JSON.stringify({ unhandled }));
})();
