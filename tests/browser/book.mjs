// The centre's demo booking page (/book, standing in for iHanoi) in Debian's Chromium, driven by
// Playwright: a citizen books a slot 6 days ahead on a phone and gets a 10-digit code and a QR;
// a second booking for the same field and day is refused (by the API with 409 quota_exceeded, and
// in the page in Vietnamese); a bad ID is refused; a fresh booking is cancelled from the page.
// The page fits a 390 px wide phone. Run with CENTRE_URL (a running centre), POINT_PATH and
// SERVICE_ID (a point it knows and one of its services) and OUT_DIR (for screenshots) set.
import { chromium } from "playwright-core";
import { join } from "node:path";

const { CENTRE_URL, POINT_PATH, SERVICE_ID, OUT_DIR } = process.env;
const PHONE = { width: 390, height: 800 };
const DESKTOP = { width: 1280, height: 800 };
const FIRST_ID = "001190054321";
const SECOND_ID = "079085001234";

function check(cond, what) {
  if (!cond) throw new Error(what);
  console.log(`ok - ${what}`);
}

// Today and the next days in the point's time zone, as YYYY-MM-DD.
function hanoiDay(offset) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date());
  const get = t => Number(parts.find(p => p.type === t).value);
  return new Date(Date.UTC(get("year"), get("month") - 1, get("day") + offset)).toISOString().slice(0, 10);
}

async function api(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: r.status, json, text };
}

// Open (or reload) /book and choose the point, the service and the last day; wait for its slots.
async function choose(page, reload) {
  if (reload) await page.reload();
  else await page.goto(`${base}/book`);
  await page.waitForFunction(v => [...document.querySelectorAll("#point option")].some(o => o.value === v), POINT_PATH);
  await page.selectOption("#point", POINT_PATH);
  await page.waitForFunction(v => [...document.querySelectorAll("#service option")].some(o => o.value === v), SERVICE_ID);
  await page.selectOption("#service", SERVICE_ID);
  const day = await page.$eval("#day", s => s.options[s.options.length - 1].value);
  await page.selectOption("#day", day);
  await page.waitForSelector(`#slots[data-day="${day}"] .slot`);
  return day;
}

// Click a free slot (the one starting at `prefer` if it is still free); returns its start.
async function pickSlot(page, prefer) {
  let slot = prefer ? await page.$(`#slots .slot[data-start="${prefer}"]:not([disabled])`) : null;
  if (!slot) slot = await page.$("#slots .slot:not([disabled])");
  if (!slot) throw new Error("no free slot on the page 6 days ahead");
  await slot.click();
  const start = await slot.getAttribute("data-start");
  check((await slot.getAttribute("aria-pressed")) === "true", `the slot ${start} is chosen (aria-pressed=true)`);
  return start;
}

async function statusContains(page, text) {
  await page.waitForFunction(t => document.getElementById("status").textContent.includes(t), text, { timeout: 10000 });
  return page.textContent("#status");
}

// Layout at 390 px: no sideways scrolling, no text sticking out of its box, big enough text and
// touch targets. Returns what is wrong, empty when all is well.
async function layoutProblems(page) {
  return page.evaluate(() => {
    const out = [];
    const name = el => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}`;
    const sw = document.documentElement.scrollWidth;
    if (sw > 390) out.push(`the page is ${sw} px wide`);
    for (const el of document.querySelectorAll("button, label, #code, .slot")) {
      if (el.scrollWidth > el.clientWidth + 1) {
        out.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}": ${el.scrollWidth} > ${el.clientWidth}`);
      }
    }
    for (const el of document.querySelectorAll("button, select, input")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue; // not shown
      if (r.height < 48 || r.width < 48) out.push(`${name(el)} is ${r.width.toFixed(0)}x${r.height.toFixed(0)} px (< 48)`);
    }
    for (const el of document.body.querySelectorAll("*")) {
      if (el.closest("svg, script, style, noscript")) continue;
      const own = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
      if (!own || el.getClientRects().length === 0) continue;
      const px = parseFloat(getComputedStyle(el).fontSize);
      if (px < 18) out.push(`${name(el)} "${el.textContent.trim().slice(0, 40)}" at ${px} px (< 18)`);
    }
    return out;
  });
}

async function checkLayout(page, where) {
  const problems = await layoutProblems(page);
  check(problems.length === 0, `${where} fits 390 px (scrollWidth <= 390, text in its boxes, >= 18 px, >= 48 px targets)` +
    (problems.length ? `: ${problems.join("; ")}` : ""));
}

for (const [k, v] of Object.entries({ CENTRE_URL, POINT_PATH, SERVICE_ID, OUT_DIR })) {
  if (!v) {
    console.error(`not ok - ${k} is not set`);
    process.exit(1);
  }
}
const base = CENTRE_URL.replace(/\/+$/, "");

let browser;
let failed = false;
try {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // The phone is set to another time zone: the days offered must still be the point's.
  const context = await browser.newContext({ viewport: PHONE, locale: "vi-VN", timezoneId: "Europe/Paris" });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const scriptTrouble = [];
  page.on("pageerror", e => scriptTrouble.push(`page error: ${e.message}`));
  page.on("console", m => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) scriptTrouble.push(m.text());
  });

  // 1. A booking on the phone.
  const day = await choose(page, false);
  const days = await page.$$eval("#day option", os => os.map(o => o.value));
  check(days.length === 7 && days[0] === hanoiDay(0) && days[6] === hanoiDay(6),
    `the day list is today and the next 6 days in Hanoi: ${days[0]} … ${days[6]}`);
  check(day === hanoiDay(6), `the last day ${day} is chosen`);
  const slotCount = await page.$$eval("#slots .slot", bs => bs.length);
  check(slotCount > 0, `${slotCount} slot buttons shown for ${day}`);
  const slotText = await page.textContent("#slots .slot");
  check(/^\d\d:\d\d–\d\d:\d\d \(còn \d+ \/ \d+ left\)$/.test(slotText.trim()), `a slot reads "${slotText.trim()}"`);
  const start = await pickSlot(page);
  await page.fill("#citizen-id", FIRST_ID);
  await checkLayout(page, "the form with its slots");
  await page.click("#book");
  await page.waitForSelector("#result:not([hidden]) #code");
  const shown = (await page.textContent("#code")).trim();
  const code = shown.replace(/\s/g, "");
  check(/^\d{10}$/.test(code), `the booking code "${shown}" has 10 digits`);
  check(await page.$("#qr svg") !== null, "the QR is drawn as an <svg> in #qr");
  const dd = day.slice(8, 10), mm = day.slice(5, 7);
  check((await page.textContent("#r-day")).includes(`${dd}/${mm}`), `the result shows the day ${dd}/${mm}`);
  check((await page.textContent("#r-slot")).startsWith(start), `the result shows the slot ${start}`);
  check((await page.textContent("#result")).includes("quét mã QR"), "the result says to scan the QR at the kiosk");
  check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 0), "nothing is kept in the browser's storage");
  await checkLayout(page, "the result");
  await page.screenshot({ path: join(OUT_DIR, "book-vi-phone.png") });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(OUT_DIR, "book-desktop.png") });
  await page.setViewportSize(PHONE);

  // 2. The same citizen, the same field, the same day: refused by the API...
  const slots = await api("GET", `/api/v1/booking/slots?point=${encodeURIComponent(POINT_PATH)}` +
    `&service=${encodeURIComponent(SERVICE_ID)}&day=${day}`);
  check(slots.status === 200 && Array.isArray(slots.json?.slots), `the slots API answers for ${day}`);
  const free = slots.json.slots.find(s => s.start === start && s.free > 0) || slots.json.slots.find(s => s.free > 0);
  check(free, `a slot is still free on ${day} (${free?.start})`);
  const again = await api("POST", "/api/v1/bookings",
    { point: POINT_PATH, service: SERVICE_ID, day, slot: free.start, citizen_id: FIRST_ID });
  check(again.status === 409 && again.json?.error === "quota_exceeded",
    `a second booking by ${FIRST_ID} for ${SERVICE_ID} on ${day}: ${again.status} ${again.text}`);

  // ...and in the page, in Vietnamese.
  await choose(page, true);
  await pickSlot(page, start);
  await page.fill("#citizen-id", FIRST_ID);
  await page.click("#book");
  const quota = await statusContains(page, "đủ số lượt");
  check(true, `the page refuses the second booking: "${quota.trim()}"`);
  check(await page.isHidden("#result"), "no result is shown for the refused booking");

  // 3. A bad ID number.
  await page.fill("#citizen-id", "12345");
  await page.click("#book");
  const bad = await statusContains(page, "Số định danh không hợp lệ");
  check(true, `a bad ID "12345" is refused: "${bad.trim()}"`);
  await checkLayout(page, "the form with a refusal");

  // 4. Another citizen books, then cancels from the page.
  await choose(page, true);
  await pickSlot(page);
  await page.fill("#citizen-id", SECOND_ID);
  await page.click("#book");
  await page.waitForSelector("#result:not([hidden]) #code");
  const code2 = (await page.textContent("#code")).replace(/\s/g, "");
  check(/^\d{10}$/.test(code2) && code2 !== code, `${SECOND_ID} booked ${code2}`);
  await page.click("#cancel");
  const cancelled = await statusContains(page, "Đã huỷ");
  check(true, `the booking ${code2} is cancelled from the page: "${cancelled.trim()}"`);
  check(await page.isDisabled("#cancel"), "the cancel button is disabled once cancelled");
  await checkLayout(page, "the cancelled result");

  check(scriptTrouble.length === 0, `no script errors or CSP refusals${scriptTrouble.length ? ": " + scriptTrouble.join("; ") : ""}`);
  console.log("all browser checks passed");
} catch (e) {
  console.error(`not ok - ${e.message}`);
  failed = true;
} finally {
  if (browser) await browser.close().catch(() => {});
}
if (failed) process.exit(1);
