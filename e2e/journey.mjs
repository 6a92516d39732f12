// Browser test of the main journey, in Debian's chromium driven by playwright-core:
// a citizen submits → the operator sees it → the dispatcher routes it → the handler replies →
// the callback closes it → the dashboard counts it; and a handler of another unit cannot see it.
//
// Usage: node journey.mjs --jiesu PATH/TO/jiesu [--chromium /usr/bin/chromium] [--shots DIR]
// Starts its own server on a fresh SQLite database with one account per role.

import { chromium } from "playwright-core";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const JIESU = arg("--jiesu");
const CHROMIUM = arg("--chromium", "/usr/bin/chromium");
if (!JIESU) {
  console.error("usage: node journey.mjs --jiesu PATH [--chromium PATH]");
  process.exit(2);
}

let passed = 0;
let failed = 0;
const check = (cond, what) => {
  if (cond) {
    passed++;
    console.log(`  ok   ${what}`);
  } else {
    failed++;
    console.log(`  FAIL ${what}`);
  }
};

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), "jiesu-e2e-"));
const db = `sqlite://${join(dir, "e2e.db")}`;
const PASSWORD = "e2e-password-123";
const accounts = [
  ["operator", "operator", null],
  ["dispatcher", "dispatcher", null],
  ["handler", "handler", "110102012"],
  ["handler-other", "handler", "110102013"],
  ["callback", "callback", null],
  ["supervisor", "supervisor", null],
];
for (const [username, role, unit] of accounts) {
  const args = ["user", "add", "--db", db, "--username", username, "--role", role, "--password-stdin"];
  if (unit) args.push("--unit", unit);
  const r = spawnSync(JIESU, args, { input: PASSWORD + "\n", encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`user add ${username} failed:\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------- elder care accounts (issue 14)
const CARE_STREET = "110102012";
const CARE_COMMUNITY = "110102012001";
const CARE_PROVIDER = "P001";
for (const [username, role, unit] of [
  ["care-admin", "care_admin", null],
  ["care-manager", "care_manager", CARE_STREET],
  ["provider", "provider", CARE_PROVIDER],
]) {
  const args = ["user", "add", "--db", db, "--username", username, "--role", role, "--password-stdin"];
  if (unit) args.push("--unit", unit);
  const r = spawnSync(JIESU, args, { input: PASSWORD + "\n", encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`user add ${username} failed:\n${r.stdout}\n${r.stderr}`);
    process.exit(1);
  }
}
// ---------------------------------------------------------------- end of the elder care accounts

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(JIESU, ["serve", "--db", db, "--bind", `127.0.0.1:${port}`], {
  stdio: ["ignore", "inherit", "inherit"],
});
const stopServer = () => {
  try { server.kill("SIGTERM"); } catch {}
};
process.on("exit", () => {
  stopServer();
  rmSync(dir, { recursive: true, force: true });
});
for (let i = 0; ; i++) {
  try {
    const r = await fetch(`${base}/healthz`);
    if (r.ok) break;
  } catch {}
  if (i > 200) throw new Error("server did not start");
  await new Promise((r) => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});

// ---------------------------------------------------------------- English-text scan (issue 13)
// Every page the journey visits is scanned once it loads: its text (hidden parts too, minus
// scripts, styles, <code>, <kbd> and <bdi>, which hold codes, keys and names as typed) must have
// no Latin-letter words except codes and ids (they carry digits), units and product names.
// The result is one check, made when the browser closes.
const LATIN_OK = new Set([
  "API", "CSV", "XLSX", "JSON", "Open311", "Webhook", "CSRF", "ID", "OK", "JPG", "PNG", "WebP",
  "MB", "KB", "http", "https", "jiesu", "htmx",
]);
const englishFound = new Map();
const scannedPages = new Set();
async function scanEnglish(page) {
  let words;
  try {
    words = await page.evaluate(() => {
      const body = document.body.cloneNode(true);
      body.querySelectorAll("script, style, code, kbd, bdi, noscript").forEach((n) => n.remove());
      return body.textContent.match(/[A-Za-z][A-Za-z0-9]+/g) || [];
    });
  } catch {
    return; // navigated away while scanning: the next load is scanned
  }
  const path = new URL(page.url()).pathname;
  scannedPages.add(path);
  for (const w of words) {
    if (/[0-9]/.test(w) || LATIN_OK.has(w)) continue;
    if (!englishFound.has(path)) englishFound.set(path, new Set());
    englishFound.get(path).add(w);
  }
}
{
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const ctx = await newContext(...args);
    ctx.on("page", (p) => p.on("load", () => scanEnglish(p)));
    return ctx;
  };
  const close = browser.close.bind(browser);
  browser.close = async () => {
    const found = [...englishFound].map(([p, ws]) => `${p}: ${[...ws].join(" ")}`);
    check(
      scannedPages.size > 5 && found.length === 0,
      `no English words on the ${scannedPages.size} pages visited${found.length ? " — " + found.join("; ") : ""}`,
    );
    return close();
  };
}
// ---------------------------------------------------------------- end of the English-text scan

async function as(username, fn, viewport = { width: 1366, height: 768 }) {
  const ctx = await browser.newContext({ viewport, locale: "zh-CN" });
  const page = await ctx.newPage();
  try {
    if (username) {
      await page.goto(`${base}/login`);
      await page.fill("#username", username);
      await page.fill("#password", PASSWORD);
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    }
    return await fn(page);
  } finally {
    await ctx.close();
  }
}

const TEXT = "什刹海街道西四北社区三条胡同口的路灯坏了一个多星期，晚上一片漆黑，老人出门很危险，希望尽快修好。";
try {
  console.log("journey");
  // 1. A citizen on a phone-width screen files a request and gets a tracking code.
  const code = await as(null, async (page) => {
    await page.goto(`${base}/portal`);
    await page.selectOption("#request_type", "complaint");
    await page.fill("#text", TEXT);
    await page.fill("#address", "西四北三条胡同口");
    await page.selectOption("#street", "110102012");
    await page.fill("#caller_phone", "13911112222");
    await Promise.all([page.waitForNavigation(), page.click("#portal-submit")]);
    const code = (await page.textContent("#tracking-code"))?.trim();
    check(/^XC\d{6}[0-9A-Z]{6}$/.test(code ?? ""), `citizen gets a tracking code (${code})`);
    check((await page.textContent("#track-status"))?.includes("已受理"), "tracking page shows 已受理");
    return code;
  }, { width: 390, height: 844 });

  // Bad input on the portal: the message stands next to the field, nothing is filed.
  await as(null, async (page) => {
    await page.goto(`${base}/portal`);
    await page.fill("#caller_phone", "13911112222");
    await page.click("#portal-submit");
    await page.waitForSelector("#text-err");
    check((await page.textContent("#text-err")).includes("请填写"), "empty text is refused beside the field");
  });

  // 2. The operator finds it in the list.
  const id = await as("operator", async (page) => {
    await page.goto(`${base}/requests?q=${encodeURIComponent("路灯")}`);
    const link = page.locator("#worklist a", { hasText: code });
    check((await link.count()) === 1, "operator sees the citizen's request");
    await Promise.all([page.waitForNavigation(), link.click()]);
    check((await page.textContent("#request-text")).includes("路灯"), "operator opens its page");
    const url = new URL(page.url());
    return url.pathname.split("/").pop();
  });

  // The 受理编号 or the caller's phone typed into the header's search box opens the request.
  await as("dispatcher", async (page) => {
    await page.goto(`${base}/board`);
    await page.fill("header form.find input[name=q]", code.toLowerCase());
    await Promise.all([page.waitForNavigation(), page.press("header form.find input[name=q]", "Enter")]);
    check(new URL(page.url()).pathname === `/r/${id}`, "the header's search box opens a request by its code");
    await page.fill("header form.find input[name=q]", "139 1111 2222");
    await Promise.all([page.waitForNavigation(), page.press("header form.find input[name=q]", "Enter")]);
    check((await page.locator("#worklist a", { hasText: code }).count()) === 1, "the caller's phone finds the request");
  });

  // 3. The dispatcher routes it to the street office from the board.
  await as("dispatcher", async (page) => {
    await page.goto(`${base}/board`);
    check((await page.locator("#worklist a", { hasText: code }).count()) === 1, "board lists it as 待派单");
    await page.goto(`${base}/r/${id}`);
    await page.click("#act-dispatch summary");
    await page.selectOption("#dispatch-unit", "110102012");
    await Promise.all([page.waitForNavigation(), page.click("#do-dispatch")]);
    check((await page.textContent("#flash")).includes("派单"), "dispatcher routes it");
    check((await page.textContent("#timeline")).includes("派至"), "timeline shows the dispatch");
  });

  // 4. A handler of another unit cannot see it; the right handler works it from the queue.
  await as("handler-other", async (page) => {
    const r = await page.goto(`${base}/r/${id}`);
    check(r.status() === 404, "handler of another unit gets 404");
    await page.goto(`${base}/queue`);
    check((await page.locator("#worklist a", { hasText: code }).count()) === 0, "…and does not see it in the queue");
  });
  await as("handler", async (page) => {
    await page.goto(`${base}/queue`);
    check((await page.locator("#worklist a", { hasText: code }).count()) === 1, "handler sees it in the queue");
    await page.goto(`${base}/r/${id}`);
    // Reply before contact is refused by the engine: shown disabled, with the reason.
    check((await page.locator("#act-reply[aria-disabled=true]").count()) === 1, "reply is disabled before 签收");
    await Promise.all([page.waitForNavigation(), page.click("#act-accept summary").then(() => page.click("#do-accept"))]);
    check((await page.textContent("#flash")).includes("签收"), "handler signs for it");
    await page.click("#act-contact summary");
    await Promise.all([page.waitForNavigation(), page.click("#do-contact")]);
    await page.click("#act-reply summary");
    await page.fill("#reply-text", "");
    await Promise.all([page.waitForNavigation(), page.click("#do-reply")]);
    check((await page.locator("#act-reply .err").textContent()).length > 0, "an empty reply is refused beside the field");
    await page.fill("#reply-text", "已更换路灯灯泡，经现场核实照明恢复。");
    await Promise.all([page.waitForNavigation(), page.click("#do-reply")]);
    check((await page.textContent("#flash")).includes("答复"), "handler replies");
  });

  // 5. The callback desk calls back and closes.
  await as("callback", async (page) => {
    await page.goto(`${base}/callback`);
    check((await page.locator("#worklist a", { hasText: code }).count()) === 1, "callback desk lists it");
    await page.goto(`${base}/r/${id}`);
    await page.click("#act-callback summary");
    await page.check("input[name=resolved][value=yes]");
    await page.selectOption("#callback-satisfaction", "satisfied");
    await Promise.all([page.waitForNavigation(), page.click("#do-callback")]);
    check((await page.textContent("#flash")).includes("回访"), "callback recorded");
    await page.click("#act-close summary");
    await Promise.all([page.waitForNavigation(), page.click("#do-close")]);
    check((await page.textContent("h1")).includes("已办结"), "request closed");
  });

  // 6. The citizen rates it once.
  await as(null, async (page) => {
    await page.goto(`${base}/portal/track?code=${code}`);
    await page.check("input[name=satisfaction][value=satisfied]");
    await Promise.all([page.waitForNavigation(), page.click("#rate-submit")]);
    check((await page.locator("#rate-form").count()) === 0, "citizen rates once; the form is gone");
  }, { width: 390, height: 844 });

  // 7. The dashboard counts it.
  await as("supervisor", async (page) => {
    await page.goto(`${base}/dashboard`);
    const row = page.locator("#street-ranking tr", { hasText: "什刹海街道" });
    check((await row.count()) === 1, "dashboard ranks the street");
    const text = await row.textContent();
    check(/100\.0/.test(text), "its rates count the closed request");
    check((await page.textContent("#kpi-resolution")).trim() === "100.0", "district 解决率 counts it");
  });

  // ---------------------------------------------------------------- elder care (issue 14)
  // Setup through the API: the 民政 admin contracts a provider covering the community, the
  // care manager registers an elder; then in the browser an operator turns a 12345 request about
  // elder care into a service order, the care manager assigns it with one click from the ranked
  // matches, the provider schedules, starts and finishes the visit at phone width (375×812, no
  // horizontal scroll), and the family rates it on the portal.
  {
    console.log("elder care");
    const api = async (token, method, path, body) => {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      let json = null;
      try { json = JSON.parse(text); } catch {}
      return { status: r.status, json, text };
    };
    const login = async (username) =>
      (await api(null, "POST", "/api/v1/auth/login", { username, password: PASSWORD })).json?.token;
    // A synthetic 居民身份证号码 with its GB 11643 check character.
    const idNumber = (body17) => {
      const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
      const sum = [...body17].reduce((s, c, i) => s + Number(c) * w[i], 0);
      return body17 + "10X98765432"[sum % 11];
    };
    const ELDER_ID = idNumber("11010219380311224");
    const ELDER_PHONE = "13700002222";
    const admin = await login("care-admin");
    const manager = await login("care-manager");
    const operatorToken = await login("operator");
    let r = await api(admin, "PUT", `/api/v1/care/providers/${CARE_PROVIDER}`, {
      code: CARE_PROVIDER, name: "什刹海居家护理站", street: CARE_STREET, community: CARE_COMMUNITY,
      phone: "010-66112233", active: true,
      services: [{ service: "bath", price_fen: 8000, copay_fen: 1000 }],
      coverage: [CARE_COMMUNITY],
      slots: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start_min: 0, end_min: 1440, capacity: 4 })),
    });
    check(r.status === 200, `care admin contracts a provider (${r.status})`);
    r = await api(manager, "POST", "/api/v1/care/elders", {
      name: "刘桂兰", id_number: ELDER_ID, phone: ELDER_PHONE, birth_date: "1938-03-11",
      street: CARE_STREET, community: CARE_COMMUNITY, address: "西四北三条18号",
      living_alone: true, basic_service_object: true,
      family: [{ name: "刘强", relation: "儿子", phone: "13911113333" }],
      care_manager: "care-manager",
      consent: { date: "2026-01-05", scope: ["基本信息", "健康信息"] },
    });
    check(r.status === 201, `care manager registers an elder (${r.status})`);
    r = await api(operatorToken, "POST", "/api/v1/requests", {
      request_type: "help_request", category: "elderly.home-care", street: CARE_STREET,
      community: CARE_COMMUNITY, text: "我母亲八十多岁独居，自己洗不了澡，想请人上门助浴。",
      caller_phone: ELDER_PHONE,
    });
    check(r.status === 201, `an elder-care request is recorded (${r.status})`);
    const careRequest = r.json?.id;

    // The operator turns the request into an order from its page.
    const orderId = await as("operator", async (page) => {
      await page.goto(`${base}/r/${careRequest}`);
      check((await page.locator("#care-order-block").count()) === 1, "the request page offers 转养老服务工单");
      await page.fill("#care-find-q", ELDER_PHONE);
      await Promise.all([page.waitForNavigation(), page.click("#care-find")]);
      check((await page.locator("input[name=elder_id]").count()) === 1, "the elder is found by phone");
      await page.selectOption("#order-service", "bath");
      await Promise.all([page.waitForNavigation(), page.click("#create-order")]);
      check((await page.textContent("#flash")).includes("工单已创建"), "a service order is created from the request");
      return new URL(page.url()).pathname.split("/").pop();
    });

    // The care manager sees the ranked matches with their reasons and assigns with one click.
    const orderCode = await as("care-manager", async (page) => {
      await page.goto(`${base}/care`);
      check(new URL(page.url()).pathname === "/care", "care manager's desk opens");
      await page.goto(`${base}/care/orders/${orderId}`);
      const reasons = await page.textContent("#matches");
      check(reasons.includes("什刹海居家护理站") && reasons.includes("覆盖老人所在社区"), "matches are shown with their reasons");
      await Promise.all([page.waitForNavigation(), page.click(`#assign-${CARE_PROVIDER}`)]);
      check((await page.textContent("#order-status")).includes("待排班"), "care manager assigns the provider");
      return (await page.textContent("#order-code")).trim();
    });

    // The provider, on a phone: desk, carer, schedule, start (the address when no GPS), finish.
    const noScroll = async (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await as("provider", async (page) => {
      await page.goto(`${base}/care/provider`);
      check(await noScroll(page), "provider desk has no horizontal scroll at 375 px");
      check((await page.locator("#waiting .order-card").count()) === 1, "the new order is a card on the provider's desk");
      await page.fill("#carer_name", "赵护理");
      await page.check("input[name=skills][value=bath]");
      await Promise.all([page.waitForNavigation(), page.click("#add-carer")]);
      await Promise.all([page.waitForNavigation(), page.click("#waiting .order-card")]);
      check(await noScroll(page), "order page has no horizontal scroll at 375 px");
      await page.selectOption("#schedule-carer", { index: 1 });
      await Promise.all([page.waitForNavigation(), page.click("#do-schedule")]);
      check((await page.textContent("#order-status")).includes("已排班"), "provider schedules a carer and slot");
      await page.waitForFunction(() => (document.getElementById("geo-note")?.textContent || "").length > 0);
      await Promise.all([page.waitForNavigation(), page.click("#do-start")]);
      check((await page.textContent("#order-status")).includes("服务中"), "provider starts the visit");
      await page.fill("#finish-notes", "协助洗浴，老人状态良好。");
      await Promise.all([page.waitForNavigation(), page.click("#do-finish")]);
      check((await page.textContent("#order-status")).includes("待评价"), "provider finishes the visit");
      check((await page.textContent("#order-facts")).includes("西四北三条18号"), "the visit's place is recorded");
    }, { width: 375, height: 812 });

    // The family rates the finished visit on the portal, once.
    await as(null, async (page) => {
      await page.goto(`${base}/portal/care/${orderCode}`);
      check(await noScroll(page), "family's order page has no horizontal scroll at 375 px");
      check((await page.textContent("#care-status")).includes("待评价"), "family sees the finished visit");
      await page.check("input[name=score][value='5']");
      await Promise.all([page.waitForNavigation(), page.click("#care-rate-submit")]);
      check((await page.textContent("#care-rating")).includes("5分"), "family rates it");
      check((await page.locator("#care-rate-form").count()) === 0, "…once: the form is gone");
    }, { width: 375, height: 812 });
  }
  // ---------------------------------------------------------------- end of elder care

  // ---------------------------------------------------------------- 一键呼 alarm desk (issue 15)
  // Setup through the API: the 民政 admin adds a vendor platform, an elder and the elder's
  // device. In the browser the operator keeps the desk open; the vendor posts a signed alarm;
  // the row appears without a reload (the desk polls every second), highlighted; 接警 opens
  // the alarm with the elder's profile; it is resolved as 误报.
  {
    console.log("alarm desk");
    const { createHmac } = await import("node:crypto");
    const api = async (token, method, path, body, headers = {}) => {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await r.text();
      let json = null;
      try { json = JSON.parse(text); } catch {}
      return { status: r.status, json, text };
    };
    const admin = (await api(null, "POST", "/api/v1/auth/login", { username: "care-admin", password: PASSWORD })).json?.token;
    const idNumber = (body17) => {
      const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
      const sum = [...body17].reduce((s, c, i) => s + Number(c) * w[i], 0);
      return body17 + "10X98765432"[sum % 11];
    };
    let r = await api(admin, "POST", "/api/v1/devices/vendors", { code: "e2e-vendor", name: "安康一键呼平台" });
    check(r.status === 201, `care admin adds a vendor platform (${r.status})`);
    const secret = r.json?.secret;
    r = await api(admin, "POST", "/api/v1/care/elders", {
      name: "赵淑芬", id_number: idNumber("11010219360722116"), phone: "13700005555", birth_date: "1936-07-22",
      street: CARE_STREET, community: CARE_COMMUNITY, address: "西四北五条9号",
      living_alone: true, basic_service_object: false,
      family: [{ name: "赵明", relation: "女儿", phone: "13911115555" }],
      care_manager: "care-manager", medical_notes: "高血压，对青霉素过敏",
      consent: { date: "2026-01-05", scope: ["基本信息", "健康信息"] },
    });
    check(r.status === 201, `an elder is registered (${r.status})`);
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    r = await api(admin, "POST", "/api/v1/devices", {
      device_id: "YJH-E2E-1", vendor: "e2e-vendor", model: "AK-100", elder_id: r.json?.id,
      installed_on: today, room: "卧室", heartbeat_secs: 60,
    });
    check(r.status === 201, `the elder's device is provisioned (${r.status})`);

    // The vendor platform's signed post: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>.<body>")>`.
    const postAlarm = async (reference) => {
      const body = JSON.stringify({
        device_id: "YJH-E2E-1", reference, device_type: "pendant", status_code: "button",
        time: new Date().toISOString(),
      });
      const t = Math.floor(Date.now() / 1000);
      const sig = `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
      return api(null, "POST", "/api/v1/devices/alarms", body, {
        "x-jiesu-vendor": "e2e-vendor", "x-jiesu-signature": sig,
      });
    };
    await as("operator", async (page) => {
      await page.goto(`${base}/alarms`);
      check((await page.locator("#alarm-feed").count()) === 1, "operator opens the alarm desk");
      await page.check("#alarm-sound");
      // A marker that a reload would wipe.
      await page.evaluate(() => { window.__noReload = true; });
      const posted = Date.now();
      const res = await postAlarm("E2E-1");
      check(res.status === 201, `the vendor's signed alarm is accepted (${res.status})`);
      const alarmId = res.json?.alarm_id;
      await page.waitForSelector(`#alarm-${alarmId}`, { timeout: 5000 });
      const took = Date.now() - posted;
      check(await page.evaluate(() => window.__noReload === true), `the alarm appears on the desk without a reload (${took} ms)`);
      check((await page.getAttribute(`#alarm-${alarmId}`, "data-status")) === "raised", "…as 待接警");
      await page.waitForSelector(`#alarm-${alarmId}.fresh`, { timeout: 3000 });
      check(true, "…highlighted as new");
      await Promise.all([page.waitForNavigation(), page.click(`#ack-${alarmId}`)]);
      check((await page.textContent("#alarm-status")).includes("已接警"), "接警 with one click opens the alarm");
      check((await page.textContent("#elder-medical")).includes("青霉素过敏"), "the elder's medical notes are one glance away");
      check((await page.textContent("#elder-family")).includes("13911115555"), "…and the family's phone");
      await page.selectOption("#resolve-outcome", "false_alarm");
      await page.fill("#resolve-note", "老人误按，已电话确认平安。");
      await Promise.all([page.waitForNavigation(), page.click("#do-resolve")]);
      check((await page.textContent("#alarm-status")).includes("已处置"), "resolved as 误报");
      check((await page.textContent("#alarm-timeline")).includes("误报"), "the timeline records the outcome");
    });
    // The desk at phone width: an alarm as a card with a full-width 接警, no horizontal scroll.
    const second = (await postAlarm("E2E-2")).json?.alarm_id;
    await as("operator", async (page) => {
      await page.goto(`${base}/alarms`);
      check((await page.locator(`#ack-${second}`).count()) === 1, "the desk lists the next alarm at 390 px");
      check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "alarm desk has no horizontal scroll at 390 px");
    }, { width: 390, height: 844 });
  }
  // ---------------------------------------------------------------- end of the alarm desk
} catch (e) {
  failed++;
  console.log(`  FAIL ${e.stack || e}`);
} finally {
  await browser.close();
  stopServer();
}
console.log(`browser journey: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
