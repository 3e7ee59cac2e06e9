// The measurements of bench/neon-driver.sh, in one Node process so both sides share its event loop:
// neon() over HTTP and the driver's Pool over WebSocket against node-postgres over TCP, all through
// zenith's proxy. Prints one JSON object.   Usage: node neon-driver.js PORT USER SECONDS
const { neon, neonConfig, Pool: NeonPool } = require('@neondatabase/serverless');
const pg = require('pg');
const [port, user, seconds] = process.argv.slice(2);
neonConfig.fetchEndpoint = () => `http://127.0.0.1:${port}/sql`;
neonConfig.wsProxy = () => `127.0.0.1:${port}/v2`;
neonConfig.useSecureWebSocket = false;
neonConfig.webSocketConstructor = require('ws');
const url = `postgresql://${user}@localhost:${port}/postgres?options=branch%3Dmain`;
const tcpConfig = { host: '127.0.0.1', port: Number(port), user, database: 'postgres', options: 'branch=main' };
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

async function latencyUs(query, n) {
  const took = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await query(i);
    took.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return median(took);
}

async function perSecond(query, clients) {
  const end = Date.now() + Number(seconds) * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) { await query(done); done++; }
  }));
  return Math.round(done / Number(seconds));
}

(async () => {
  const sql = neon(url);
  const tcp = new pg.Client(tcpConfig);
  await tcp.connect();
  const tcpPool = new pg.Pool({ ...tcpConfig, max: 16 });
  const wsPool = new NeonPool({ connectionString: url, max: 16 });
  const httpQuery = (i) => sql.query('SELECT $1::int', [i]);
  await latencyUs(httpQuery, 200);
  await latencyUs((i) => tcp.query('SELECT $1::int', [i]), 200);
  const out = {
    httpLatencyUs: await latencyUs(httpQuery, 2000),
    tcpLatencyUs: await latencyUs((i) => tcp.query('SELECT $1::int', [i]), 2000),
    httpQps16: await perSecond(httpQuery, 16),
    tcpQps16: await perSecond((i) => tcpPool.query('SELECT $1::int', [i]), 16),
    wsSelectsPerSecond: await perSecond((i) => wsPool.query('SELECT abalance FROM pgbench_accounts WHERE aid = $1', [1 + (i % 100000)]), 16),
    tcpSelectsPerSecond: await perSecond((i) => tcpPool.query('SELECT abalance FROM pgbench_accounts WHERE aid = $1', [1 + (i % 100000)]), 16),
  };
  const sessions = async () => (await tcp.query("SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'")).rows[0].sessions;
  const before = Number(await sessions());
  for (let i = 0; i < 1000; i++) await httpQuery(i);
  out.backendsFor1000 = Number(await sessions()) - before;
  await tcp.end();
  await tcpPool.end();
  await wsPool.end();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
