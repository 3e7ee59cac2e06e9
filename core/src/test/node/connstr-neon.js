// Runs what `zenith connstr --format neon` printed, as a user pastes it: the neonConfig lines, then
// neon() and a Pool on DATABASE_URL. Prints what the branch answered as JSON.
// Usage: node connstr-neon.js "PRINTED LINES"
const { neon, neonConfig, Pool } = require('@neondatabase/serverless');
neonConfig.webSocketConstructor = require('ws');
let url;
for (const line of process.argv[2].split('\n')) {
  if (line.startsWith('DATABASE_URL=')) url = line.substring('DATABASE_URL='.length);
  else eval(line); // the neonConfig settings, exactly as printed
}
(async () => {
  const overHttp = await neon(url)`SELECT 1 + 1 AS two`;
  const pool = new Pool({ connectionString: url });
  const overWs = (await pool.query('SELECT 2 + 2 AS four')).rows;
  await pool.end();
  console.log(JSON.stringify({ two: overHttp[0].two, four: overWs[0].four }));
})().catch((e) => { console.error(e.stack || e); process.exit(1); });
