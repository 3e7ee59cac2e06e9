// Neon's serverless driver over WebSocket (Pool and Client) through zenith's proxy: an interactive
// transaction, prepared statements, COPY FROM STDIN, LISTEN/NOTIFY with the sender's real pid, a cancel, Drizzle on both
// transports. Prints what it saw as JSON.
// Usage: [ZENITH_TLS=1] node neon-ws.js PORT USER PASSWORD BRANCH
const { neon, neonConfig, Pool, Client } = require('@neondatabase/serverless');
const ws = require('ws');
const { drizzle: drizzleHttp } = require('drizzle-orm/neon-http');
const { drizzle: drizzleWs } = require('drizzle-orm/neon-serverless');
const { pgTable, serial, text, integer } = require('drizzle-orm/pg-core');
const { eq, sql: dsql } = require('drizzle-orm');
const { from: copyFrom } = require('pg-copy-streams');
const { Readable } = require('stream');
const { pipeline } = require('stream/promises');
const [port, user, password, branch] = process.argv.slice(2);
const tls = process.env.ZENITH_TLS === '1'; // https and wss to a proxy with TLS (its certificate is self-signed)
neonConfig.fetchEndpoint = () => `${tls ? 'https' : 'http'}://127.0.0.1:${port}/sql`;
neonConfig.wsProxy = () => `127.0.0.1:${port}/v2`;
neonConfig.useSecureWebSocket = tls;
neonConfig.webSocketConstructor = ws;
const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
const url = `postgresql://${auth}@localhost:${port}/postgres?options=${encodeURIComponent('branch=' + branch)}`;

(async () => {
  const pool = new Pool({ connectionString: url, max: 4 });
  const client = await pool.connect();
  await client.query('CREATE TABLE IF NOT EXISTS neon_ws_t (id int PRIMARY KEY, v text)');
  await client.query('TRUNCATE neon_ws_t');
  await client.query('BEGIN');
  await client.query({ name: 'ins', text: 'INSERT INTO neon_ws_t VALUES ($1, $2)', values: [1, 'one'] });
  await client.query({ name: 'ins', text: 'INSERT INTO neon_ws_t VALUES ($1, $2)', values: [2, 'two'] });
  const inside = (await client.query('SELECT count(*)::int AS n FROM neon_ws_t')).rows[0].n;
  const outsideDuring = (await pool.query('SELECT count(*)::int AS n FROM neon_ws_t')).rows[0].n;
  await client.query('COMMIT');
  await client.query('CREATE TEMP TABLE copied (id int, v text)');
  await pipeline(Readable.from(Array.from({ length: 1000 }, (_, i) => `${i}\tv${i}\n`)),
    client.query(copyFrom('COPY copied FROM STDIN')));
  const copied = (await client.query('SELECT count(*)::int AS n, sum(id)::int AS s FROM copied')).rows[0];
  const pidSeen = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const processID = client.processID;
  client.release();

  const listener = new Client(url);
  await listener.connect();
  const sender = new Client(url);
  await sender.connect();
  const heard = new Promise((resolve) => listener.on('notification', resolve));
  await listener.query('LISTEN neon_events');
  await sender.query("NOTIFY neon_events, 'over a websocket'");
  const n = await heard;

  const victim = new Client(url);
  await victim.connect();
  const sleeping = victim.query('SELECT pg_sleep(60)').then(() => 'finished', (e) => e.code);
  for (let i = 0; i < 300; i++) {
    const r = await pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'");
    if (r.rows[0].n > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  new Client(url).cancel(victim, victim.activeQuery);
  const cancelled = await sleeping;

  const users = pgTable('neon_users', { id: serial('id').primaryKey(), name: text('name').notNull(), age: integer('age') });
  const http = drizzleHttp(neon(url));
  await http.execute(dsql`CREATE TABLE IF NOT EXISTS neon_users (id serial PRIMARY KEY, name text NOT NULL, age int)`);
  await http.execute(dsql`TRUNCATE neon_users`);
  await http.insert(users).values([{ name: 'ann', age: 31 }, { name: 'bob', age: 42 }]);
  const overHttp = await http.select({ name: users.name, age: users.age }).from(users).where(eq(users.name, 'bob'));
  const wsDb = drizzleWs(pool);
  await wsDb.transaction(async (tx) => {
    await tx.update(users).set({ age: 32 }).where(eq(users.name, 'ann'));
  });
  const overWs = await wsDb.select({ name: users.name, age: users.age }).from(users).orderBy(users.name);

  await listener.end();
  await sender.end();
  await victim.end();
  await pool.end();
  console.log(JSON.stringify({ inside, outsideDuring, copied, pidSeen, processID, payload: n.payload,
    notifierPid: n.processId, senderPid: sender.processID, cancelled, overHttp, overWs }));
})().catch((e) => { console.error(e.stack || e); if (e.code) console.error('code', e.code); process.exit(1); });
