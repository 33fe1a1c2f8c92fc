// The hub's pages in Debian's Chromium, driven by Playwright: a clerk signs in on /counter and
// calls the next number; the /board page shows it within 1 s. Then the hub is killed and started
// again on the same port, and the board recovers by itself, without a reload.
// Run by tests/it/browser.rs with KIOSK_BIN, KIOSK_CONFIG, KIOSK_DB, HUB_PORT and OUT_DIR set.
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { join } from "node:path";

const { KIOSK_BIN, KIOSK_CONFIG, KIOSK_DB, HUB_PORT, OUT_DIR } = process.env;
const base = `http://127.0.0.1:${HUB_PORT}`;
const sleep = ms => new Promise(r => setTimeout(r, ms));

function startHub() {
  return spawn(KIOSK_BIN, ["--config", KIOSK_CONFIG, "--db", KIOSK_DB, "hub"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function waitUp() {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch (e) { /* not yet */ }
    await sleep(50);
  }
  throw new Error("the hub did not come up");
}

async function issue(service) {
  const r = await fetch(`${base}/api/tickets`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer demo-kiosk-token-change-me" },
    body: JSON.stringify({ service }),
  });
  if (r.status !== 201) throw new Error(`issue: ${r.status} ${await r.text()}`);
  return (await r.json()).ticket.code;
}

function check(cond, what) {
  if (!cond) throw new Error(what);
  console.log(`ok - ${what}`);
}

let hub = startHub();
let browser;
try {
  await waitUp();
  check((await issue("ho-tich")) === "A001", "ticket A001 issued through the API");
  check((await issue("ho-tich")) === "A002", "ticket A002 issued through the API");

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const board = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await board.goto(`${base}/board`);
  await board.waitForSelector("[data-testid=code-1]");
  await board.evaluate(() => { window.__loadedOnce = true; });

  const clerk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await clerk.goto(`${base}/counter`);
  await clerk.waitForSelector("#login-counter option", { state: "attached" });
  await clerk.selectOption("#login-counter", "1");
  await clerk.fill("#login-pin", "1111");
  await clerk.click("#login-submit");
  await clerk.waitForSelector("#desk:not(.hidden)");
  await clerk.waitForFunction(() => document.querySelector("[data-testid=queue-count]").textContent === "2");
  check(true, "the clerk signed in and sees 2 waiting");

  const t0 = Date.now();
  await clerk.click("#act-call-next");
  await board.waitForFunction(
    () => document.querySelector("[data-testid=code-1]")?.textContent === "A001",
    null, { timeout: 1000 });
  const ms = Date.now() - t0;
  check(ms <= 1000, `the board shows A001 at counter 1 ${ms} ms after the click`);
  check(await board.isVisible("[data-testid=flash]"), "the new call flashes on the board");
  check((await board.textContent("#flash-code")) === "A001", "the flash shows A001");
  await clerk.waitForFunction(() => document.querySelector("[data-testid=current]").textContent === "A001");
  await board.screenshot({ path: join(OUT_DIR, "board-call.png") });
  await clerk.screenshot({ path: join(OUT_DIR, "counter-call.png") });

  // Keyboard: S starts serving, D finishes.
  await clerk.keyboard.press("s");
  await board.waitForFunction(
    () => document.querySelector("[data-testid=counter-1]")?.classList.contains("serving"), null, { timeout: 2000 });
  check(true, "the S key starts serving and the board follows");
  // The clerk's own view has caught up too (Done is enabled only while serving).
  await clerk.waitForSelector("#act-done:not([disabled])", { timeout: 5000 });

  // The hub dies and comes back on the same port.
  hub.kill("SIGKILL");
  await new Promise(r => hub.once("exit", r));
  await board.waitForFunction(() => document.getElementById("link").className === "down", null, { timeout: 5000 });
  check(true, "the board notices the hub is gone");
  hub = startHub();
  await waitUp();
  await clerk.waitForSelector("#act-done:not([disabled])", { timeout: 5000 });
  await clerk.keyboard.press("d");
  await clerk.waitForFunction(() => document.querySelector("[data-testid=current]").textContent === "—", null, { timeout: 10000 });
  await clerk.keyboard.press("Enter");
  await board.waitForFunction(
    () => document.querySelector("[data-testid=code-1]")?.textContent === "A002",
    null, { timeout: 10000 });
  check(await board.evaluate(() => window.__loadedOnce === true), "the board recovered without a reload");
  check(await board.evaluate(() => document.getElementById("link").className === ""), "the board shows it is connected again");
  await board.screenshot({ path: join(OUT_DIR, "board-after-restart.png") });

  // Someone guesses counter 5's PIN: after 5 wrong tries the page says sign-in is locked, in
  // Vietnamese, with when to try again (last: it locks this address for the other counters too).
  const guesser = await browser.newPage();
  await guesser.goto(`${base}/counter`);
  await guesser.waitForSelector("#login-counter option", { state: "attached" });
  await guesser.selectOption("#login-counter", "5");
  for (let i = 0; i < 6; i++) {
    await guesser.fill("#login-pin", String(9000 + i));
    await guesser.click("#login-submit");
    await sleep(150);
  }
  const note = await guesser.textContent("#login-message");
  check(/bị khóa/.test(note) && /\d+ giây/.test(note), `the lock is shown to the clerk: "${note}"`);
  await guesser.screenshot({ path: join(OUT_DIR, "counter-locked.png") });
  console.log("all browser checks passed");
} catch (e) {
  console.error(`not ok - ${e.message}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  hub.kill("SIGKILL");
}
