// Server render time of the busiest pages, measured from outside over HTTP (keep-alive) against
// a running server with the demo year loaded. Prints JSON.
//
// Usage: node render_bench.mjs --base URL --user NAME --password PW --path /queue [--n 200]
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const base = arg("--base", "http://127.0.0.1:8080");
const n = Number(arg("--n", "200"));
const paths = arg("--path", "/queue").split(",");
const login = await fetch(`${base}/login`, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ username: arg("--user"), password: arg("--password") }),
  redirect: "manual",
});
const cookie = (login.headers.get("set-cookie") || "").split(";")[0];
if (!cookie.startsWith("jiesu_session=")) throw new Error(`login failed: ${login.status}`);
const results = {};
for (const path of paths) {
  const times = [];
  let bytes = 0;
  for (let i = 0; i < n + 5; i++) {
    const t0 = performance.now();
    const r = await fetch(`${base}${path}`, { headers: { cookie } });
    const body = await r.text();
    const dt = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
    if (i >= 5) { times.push(dt); bytes = body.length; } // the first few warm caches
  }
  times.sort((a, b) => a - b);
  const q = (p) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))] * 10) / 10;
  results[path] = { n, p50_ms: q(0.5), p95_ms: q(0.95), p99_ms: q(0.99), html_bytes: bytes };
}
console.log(JSON.stringify(results, null, 2));
