// Screenshots for the README, taken from a running demo server (`jiesu demo`), logged in with
// the demo accounts it printed.
//
// Usage: node screenshots.mjs --base http://127.0.0.1:8080 --operator PW --handler PW
//          --supervisor PW [--handler-user handler-110102012] [--out ../docs/screenshots]
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const base = arg("--base", "http://127.0.0.1:8080");
const out = arg("--out", "../docs/screenshots");
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: arg("--chromium", "/usr/bin/chromium"),
  args: ["--no-sandbox", "--disable-gpu"],
});

async function shot(user, password, path, file, prepare) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN" });
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.fill("#username", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.goto(`${base}${path}`);
  if (prepare) await prepare(page);
  await page.screenshot({ path: `${out}/${file}`, fullPage: false });
  console.log(`wrote ${out}/${file}`);
  await ctx.close();
}

await shot("operator", arg("--operator"), "/intake", "intake.png", async (page) => {
  await page.fill("#text", "什刹海街道西四北三条12号院门口的下水道堵了好几天，污水漫到路上，气味很大，老人孩子出门都得绕着走。");
  await page.fill("#address", "西四北三条12号院");
  await page.waitForSelector("#suggest .item", { timeout: 10000 });
});
await shot(arg("--handler-user", "handler-110102012"), arg("--handler"), "/queue", "queue.png");
await shot("supervisor", arg("--supervisor"), "/dashboard", "dashboard.png", async (page) => {
  await page.waitForTimeout(800); // let ECharts draw
});
await browser.close();
