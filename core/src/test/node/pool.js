// node-postgres's Pool through the proxy: concurrent queries on pooled connections, LISTEN/NOTIFY
// between two of them, and a parameterized query. Prints what it saw as JSON.
// Usage: node pool.js PORT USER OPTIONS
const { Pool } = require('pg');
const [port, user, options] = process.argv.slice(2);
(async () => {
  const pool = new Pool({ host: '127.0.0.1', port: Number(port), user, database: 'postgres', options, max: 5 });
  const sums = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    pool.query('SELECT $1::int + 1 AS n', [i]).then((r) => r.rows[0].n)));
  const listener = await pool.connect();
  await listener.query('LISTEN zenith_events');
  const heard = new Promise((resolve) => listener.on('notification', (n) => resolve(n.payload)));
  await pool.query("SELECT pg_notify('zenith_events', 'hello from a pooled session')");
  const payload = await heard;
  listener.release();
  await pool.end();
  console.log(JSON.stringify({ total: sums.reduce((a, b) => a + b, 0), payload }));
})().catch((e) => { console.error(e.stack); process.exit(1); });
