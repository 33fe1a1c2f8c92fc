// A ticket's live page on the centre (/ve, the link on the ticket's QR) in Debian's Chromium,
// on a phone-sized screen, against a real `kiosk centre` and a real `kiosk hub` reporting to it:
// the place and wait, "go to counter 1" once a clerk calls the number, the place moving up, and
// a plain "stale" notice once the hub is killed. The link's token is computed here from the
// documented recipe (docs/centre-api.md), independently of the Rust code that prints it.
// Run by tests/it/browser.rs with KIOSK_BIN, HUB_CONFIG, KIOSK_DB, HUB_PORT, CENTRE_CONFIG,
// CENTRE_PORT, POINT_TOKEN, POINT_PATH, VIEWER_TOKEN and OUT_DIR set.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { join } from "node:path";

const { KIOSK_BIN, HUB_CONFIG, KIOSK_DB, HUB_PORT, CENTRE_CONFIG, CENTRE_PORT, POINT_TOKEN, POINT_PATH, VIEWER_TOKEN, OUT_DIR } = process.env;
const hubBase = `http://127.0.0.1:${HUB_PORT}`;
const centreBase = `http://127.0.0.1:${CENTRE_PORT}`;
const sleep = ms => new Promise(r => setTimeout(r, ms));

function check(cond, what) {
  if (!cond) throw new Error(what);
  console.log(`ok - ${what}`);
}

async function waitUp(base, what) {
  for (let i = 0; i < 400; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch (e) { /* not yet */ }
    await sleep(50);
  }
  throw new Error(`${what} did not come up`);
}

// RFC 4648 base32, lower case, no padding.
function base32(buf) {
  const a = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0, acc = 0, out = "";
  for (const b of buf) {
    acc = (acc << 8) | b; bits += 8;
    while (bits >= 5) { bits -= 5; out += a[(acc >>> bits) & 31]; }
    acc &= 0xff;
  }
  if (bits > 0) out += a[(acc << (5 - bits)) & 31];
  return out;
}

function link(day, code, token = POINT_TOKEN) {
  const k = base32(createHmac("sha256", "kiosk ticket link v1:" + token).update(`${POINT_PATH}\n${day}\n${code}`).digest()).slice(0, 20);
  return `${centreBase}/ve?ma-diem=${POINT_PATH}&so=${code}&ngay=${day}&k=${k}`;
}

async function issue(service) {
  const r = await fetch(`${hubBase}/api/tickets`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer demo-kiosk-token-change-me" },
    body: JSON.stringify({ service }),
  });
  if (r.status !== 201) throw new Error(`issue: ${r.status} ${await r.text()}`);
  return (await r.json()).ticket;
}

const centre = spawn(KIOSK_BIN, ["centre", "--config", CENTRE_CONFIG], { stdio: ["ignore", "ignore", "inherit"] });
let hub = spawn(KIOSK_BIN, ["--config", HUB_CONFIG, "--db", KIOSK_DB, "hub"], { stdio: ["ignore", "ignore", "inherit"] });
let browser;
try {
  await waitUp(centreBase, "the centre");
  await waitUp(hubBase, "the hub");
  const a = await issue("ho-tich");
  const b = await issue("ho-tich");
  check(a.code === "A001" && b.code === "A002", "two tickets issued at the hub");

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // A phone on mobile data: small screen, the citizen's own time zone setting irrelevant.
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, locale: "vi-VN" });
  const pageB = await phone.newPage();
  await pageB.goto(link(b.service_day, b.code));
  await pageB.waitForFunction(() => document.querySelector("#facts"), null, { timeout: 10000 });
  const factsB = await pageB.textContent("#facts");
  check(/Người trước bạn.*1/s.test(factsB), `A002's page: one person ahead (${factsB.trim()})`);
  check(/phút/.test(factsB), "and a wait in minutes");
  check((await pageB.textContent("#number")).trim() === "A002", "the number, large");
  check(/Hộ tịch/.test(await pageB.textContent("#service")), "the service by name");
  check(await pageB.isHidden("#stale"), "no stale notice while the hub reports");
  const fits = p => p.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
  check(await fits(pageB), "nothing wider than the phone");
  await pageB.screenshot({ path: join(OUT_DIR, "ticket-waiting.png"), fullPage: true });

  const pageA = await phone.newPage();
  await pageA.goto(link(a.service_day, a.code));
  await pageA.waitForSelector("#state.waiting #facts");

  // A clerk calls the next number at counter 1: A001's page says where to go.
  const login = await (await fetch(`${hubBase}/api/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ counter: 1, pin: "1111" }) })).json();
  const post = action => fetch(`${hubBase}/api/counters/1/${action}`, { method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + login.token }, body: "{}" });
  const calledAt = Date.now();
  const called = await (await post("call-next")).json();
  check(called.ticket.code === "A001", "counter 1 calls A001");
  await pageA.waitForSelector("#state.called", { timeout: 10000 });
  const shownAfter = Date.now() - calledAt;
  const callText = await pageA.textContent("#state");
  check(/mời đến quầy 1/.test(callText) && /go to counter 1/.test(callText), `A001's page: "${callText.trim()}"`);
  console.log(`call to phone page: ${shownAfter} ms (the page polls every 3 s)`);
  await pageA.screenshot({ path: join(OUT_DIR, "ticket-called.png"), fullPage: true });
  // A002 moves up: nobody ahead now.
  await pageB.waitForFunction(() => /Người trước bạn[^0-9]*0/.test(document.querySelector("#facts")?.textContent || ""),
    null, { timeout: 10000 });
  check(true, "A002's page: nobody ahead once A001 was called");

  // The phone's own large text (the root font size at 200 %): still nothing wider than the
  // screen, and no word broken in the middle (each text's words fit its box).
  await pageB.evaluate(() => { document.documentElement.style.fontSize = "200%"; });
  await sleep(100);
  await pageB.screenshot({ path: join(OUT_DIR, "ticket-large-text.png"), fullPage: true });
  const wide = await pageB.evaluate(() => [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map(el => el.tagName + "#" + el.id + ": " + el.textContent.trim().slice(0, 30)));
  check(await fits(pageB), `at 200 % text nothing is wider than the phone (${JSON.stringify(wide)})`);
  const broken = await pageB.evaluate(() => [...document.querySelectorAll("header *, main *, footer *")].filter(el => {
    if (!el.offsetParent || !el.textContent.trim()) return false;
    // A box (or a word too long for its box) that spills out of the box around it.
    const r = el.getBoundingClientRect(), p = el.parentElement.getBoundingClientRect();
    return r.right > p.right + 1 || r.left < p.left - 1 || el.scrollWidth > el.clientWidth + 1;
  }).map(el => el.tagName + ": " + el.textContent.trim().slice(0, 40)));
  check(broken.length === 0, `at 200 % text every word fits its box (${JSON.stringify(broken)})`);
  await pageB.evaluate(() => { document.documentElement.style.fontSize = ""; });

  // A wrong token opens nothing, and says so.
  const bad = await phone.newPage();
  await bad.goto(link(b.service_day, b.code, "not-the-point-token"));
  await bad.waitForSelector("#error:not([hidden])");
  check(/Không tìm thấy/.test(await bad.textContent("#error")), "a wrong token: not found");
  check((await bad.textContent("#number")).trim() === b.code && await bad.isHidden("#state"),
    "the number from the link stays, with no other claim");
  await bad.screenshot({ path: join(OUT_DIR, "ticket-not-found.png"), fullPage: true });

  // The centre's staff see it on the dashboard: waiting now, P90 of the last hour, and how
  // often the estimate held today; the point's row opens today's figures hour by hour.
  const desk = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const dash = await desk.newPage();
  await dash.goto(centreBase + "/");
  await dash.fill("#viewer-token", VIEWER_TOKEN);
  await dash.click("#signin button[type=submit]");
  await dash.waitForSelector(`#points tbody tr[data-path="${POINT_PATH}"]`);
  const row = await dash.textContent(`#points tbody tr[data-path="${POINT_PATH}"]`);
  check(/100 % \(1 số/.test(row), `the dashboard's row: the estimate held for the one ticket called (${row.trim()})`);
  await dash.click(`#points tbody tr[data-path="${POINT_PATH}"]`);
  await dash.waitForSelector("#detail table + p + table");
  const detail = await dash.textContent("#detail");
  check(/Today by hour/.test(detail) && /Estimate at issue, today: 1\/1 inside/.test(detail), "the point's detail: by hour, and the estimate");
  await dash.screenshot({ path: join(OUT_DIR, "dashboard-estimate.png"), fullPage: true });

  // The hub dies: within the centre's stale limit the page says its data is old.
  hub.kill("SIGKILL");
  hub = null;
  await pageB.waitForSelector("#stale:not([hidden])", { timeout: 20000 });
  const staleText = await pageB.textContent("#stale");
  check(/Mất kết nối/.test(staleText) && /not reachable/.test(staleText), `stale notice: "${staleText.trim()}"`);
  check(/Người trước bạn/.test(await pageB.textContent("#facts")), "the last known place stays, marked stale");
  await pageB.screenshot({ path: join(OUT_DIR, "ticket-stale.png"), fullPage: true });
  console.log("all browser checks passed");
} finally {
  if (browser) await browser.close();
  if (hub) hub.kill("SIGKILL");
  centre.kill("SIGKILL");
}
