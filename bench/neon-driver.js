// The measurements of bench/neon-driver.sh, in one Node process so both sides share its event loop:
// neon() over HTTP and the driver's Pool over WebSocket against node-postgres over TCP, all through
// zenith's proxy; with the floor Node's fetch puts under neon() (a POST the proxy answers 404 at once)
// and the daemon's CPU per query (from /proc). Prints one JSON object.
// Usage: node neon-driver.js PORT USER SECONDS DAEMON_PID
const fs = require('fs');
const { neon, neonConfig, Pool: NeonPool } = require('@neondatabase/serverless');
const pg = require('pg');
const [port, user, seconds, daemonPid] = process.argv.slice(2);
neonConfig.fetchEndpoint = () => `http://127.0.0.1:${port}/sql`;
neonConfig.wsProxy = () => `127.0.0.1:${port}/v2`;
neonConfig.useSecureWebSocket = false;
neonConfig.webSocketConstructor = require('ws');
const url = `postgresql://${user}@localhost:${port}/postgres?options=branch%3Dmain`;
const tcpConfig = { host: '127.0.0.1', port: Number(port), user, database: 'postgres', options: 'branch=main' };
const median = (a) => { const s = [...a].sort((x, y) => x - y); return Math.round(s[Math.floor(s.length / 2)]); };
// the daemon's user and system time so far, in microseconds (clock ticks of 10 ms)
const daemonCpuUs = () => { const f = fs.readFileSync(`/proc/${daemonPid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10000; };

async function latencyUs(query, n) {
  const took = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await query(i);
    took.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return median(took);
}

// queries per second with CLIENTS loops at once, and the daemon's CPU per query
async function perSecond(query, clients) {
  const end = Date.now() + Number(seconds) * 1000;
  let done = 0;
  const cpu = daemonCpuUs();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) { await query(done); done++; }
  }));
  return { rate: Math.round(done / Number(seconds)), cpuUs: Math.round((daemonCpuUs() - cpu) / done) };
}

(async () => {
  const sql = neon(url);
  const tcp = new pg.Client(tcpConfig);
  await tcp.connect();
  const tcpPool = new pg.Pool({ ...tcpConfig, max: 16 });
  const wsPool = new NeonPool({ connectionString: url, max: 16 });
  const httpQuery = (i) => sql.query('SELECT $1::int', [i]);
  const fetchFloor = (i) => fetch(`http://127.0.0.1:${port}/nowhere`, { method: 'POST', body: JSON.stringify({ query: 'SELECT $1::int', params: [i] }),
    headers: { 'Neon-Connection-String': url, 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' } }).then((r) => r.text());
  const select = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1';
  await latencyUs(httpQuery, 300);
  await latencyUs((i) => tcp.query('SELECT $1::int', [i]), 300);
  await latencyUs(fetchFloor, 300);
  const out = {
    httpLatencyUs: await latencyUs(httpQuery, 2000),
    tcpLatencyUs: await latencyUs((i) => tcp.query('SELECT $1::int', [i]), 2000),
    fetchFloorLatencyUs: await latencyUs(fetchFloor, 2000),
    http16: await perSecond(httpQuery, 16),
    tcp16: await perSecond((i) => tcpPool.query('SELECT $1::int', [i]), 16),
    fetchFloor16: await perSecond(fetchFloor, 16),
    wsSelects: await perSecond((i) => wsPool.query(select, [1 + (i % 100000)]), 16),
    tcpSelects: await perSecond((i) => tcpPool.query(select, [1 + (i % 100000)]), 16),
  };
  await wsPool.end();
  neonConfig.coalesceWrites = false; // the driver batches a tick's writes by default (setTimeout 0)
  const uncoalesced = new NeonPool({ connectionString: url, max: 16 });
  out.wsSelectsUncoalesced = await perSecond((i) => uncoalesced.query(select, [1 + (i % 100000)]), 16);
  await uncoalesced.end();
  const sessions = async () => Number((await tcp.query("SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'")).rows[0].sessions);
  const before = await sessions();
  for (let i = 0; i < 1000; i++) await httpQuery(i);
  out.backendsFor1000 = (await sessions()) - before;
  await tcp.end();
  await tcpPool.end();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
