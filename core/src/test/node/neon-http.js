// Neon's serverless driver over HTTP (neon()) through zenith's proxy, beside node-postgres over TCP
// through the same proxy for the same queries. Prints what each saw as JSON.
// Usage: [ZENITH_TLS=1] node neon-http.js PORT USER PASSWORD BRANCH   (PASSWORD may be "" in trust mode)
const { neon, neonConfig } = require('@neondatabase/serverless');
const pg = require('pg');
const [port, user, password, branch] = process.argv.slice(2);
const tls = process.env.ZENITH_TLS === '1'; // https and wss to a proxy with TLS (its certificate is self-signed)
neonConfig.fetchEndpoint = () => `${tls ? 'https' : 'http'}://127.0.0.1:${port}/sql`;
const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
const url = `postgresql://${auth}@localhost:${port}/postgres?options=${encodeURIComponent('branch=' + branch)}`;

const caught = (p) => p.then(() => null, (e) => ({ name: e.constructor.name, code: e.code, message: e.message, position: e.position }));

(async () => {
  const sql = neon(url);
  const tcp = new pg.Client({ host: '127.0.0.1', port: Number(port), user, password: password || undefined,
    database: 'postgres', options: `branch=${branch}`, ssl: tls ? { rejectUnauthorized: false } : undefined });
  await tcp.connect();
  const typed = 'SELECT $1::int8 AS big, $2::numeric AS num, $3::json AS doc, $4::bytea AS bin, $5::timestamptz AS ts,'
    + ' $6::int[] AS ints, $7::text[] AS texts, $8::text AS nothing, $9::bool AS yes, $10::float8 AS f, $11::text AS s';
  const params = ['9007199254740993', '12345.678901234567890', { a: [1, 'two'] }, Buffer.from([0, 1, 254, 255]),
    new Date('2026-01-02T03:04:05.678Z'), [1, null, 3], ['a "quoted", item', 'b\\c'], null, true, 1.5, 'héllo ✓'];
  const viaHttp = await sql.query(typed, params);
  const viaTcp = (await tcp.query(typed, params)).rows;
  const template = await sql`SELECT ${42} + 1 AS answer, ${'x'} || 'y' AS joined`;
  const full = await sql.query('SELECT $1::int AS a, $2::text AS b', [7, 'seven'], { arrayMode: true, fullResults: true });
  const inTx = await sql.transaction([sql`SHOW transaction_isolation`, sql`SHOW transaction_read_only`],
    { isolationLevel: 'RepeatableRead', readOnly: true });
  await sql`CREATE TABLE IF NOT EXISTS neon_http_t (id int PRIMARY KEY, v text)`;
  await sql`TRUNCATE neon_http_t`;
  const rolledBack = await caught(sql.transaction([sql`INSERT INTO neon_http_t VALUES (1, 'kept?')`, sql`SELECT 1/0`]));
  const afterRollback = await sql`SELECT count(*)::int AS n FROM neon_http_t`;
  const committed = await sql.transaction([sql`INSERT INTO neon_http_t VALUES (2, 'kept')`, sql`SELECT v FROM neon_http_t`]);
  const readOnlyWrite = await caught(sql.transaction([sql`INSERT INTO neon_http_t VALUES (3, 'no')`], { readOnly: true }));
  const syntax = await caught(sql`SELECT 1 +`);
  const missing = await caught(sql`SELECT nosuch_column FROM neon_http_t`);
  const pid = await sql`SELECT pg_backend_pid() AS pid`;
  await tcp.end();
  console.log(JSON.stringify({ viaHttp, viaTcp, template, full: { fields: full.fields, rows: full.rows, command: full.command,
    rowCount: full.rowCount, rowAsArray: full.rowAsArray }, inTx, rolledBack, afterRollback, committed, readOnlyWrite,
  syntax, missing, pid }));
})().catch((e) => { console.error(e.stack || e); if (e.code) console.error('code', e.code); process.exit(1); });
