// The documentation pages in a real browser (Debian's headless Chromium via
// playwright-core), with every request that would leave the machine aborted:
//
//  1. Swagger UI: "Authorize" with the OAuth2 password flow (user name, password, both
//     scopes), then "Try it out" → "Execute" on the protected `/users/me/items/`,
//     which must answer 200 with the user's items.
//  2. ReDoc renders every operation of the document.
//
// usage: NODE_PATH=<dir>/node_modules node docs_flow.js http://127.0.0.1:8000 [shots-dir]
// Exits 0 only if both pass and nothing tried to reach another host.
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const base = process.argv[2] || 'http://127.0.0.1:8000';
const shots = process.argv[3] || '.';
const LOCAL = ['127.0.0.1', 'localhost', '[::1]', '::1'];

async function withPage(fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
  });
  const page = context.pages()[0] || await context.newPage();
  const blocked = [];
  await page.route('**/*', route => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL.includes(url.hostname)) {
      return route.continue();
    }
    blocked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  try {
    return { ...(await fn(page)), blocked };
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function swagger(page) {
  await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
  await page.waitForSelector('.swagger-ui .info .title', { timeout: 15000 });
  // Authorize: the OAuth2 password flow, both scopes.
  await page.locator('.btn.authorize').first().click();
  const oauth = page.locator('.auth-container', { hasText: 'OAuth2PasswordBearer' });
  await oauth.locator('#oauth_username').fill('johndoe');
  await oauth.locator('#oauth_password').fill('secret');
  // Tick every scope: the labels are what a person clicks (the inputs are hidden).
  const scopes = oauth.locator('.scopes .checkbox label');
  for (let i = 0; i < await scopes.count(); i++) {
    await scopes.nth(i).click();
  }
  const token = page.waitForResponse(r => r.url().endsWith('/token'));
  await oauth.locator('button.authorize').click();
  const tokenStatus = (await token).status();
  await oauth.locator('button', { hasText: 'Logout' }).waitFor({ timeout: 10000 });
  await page.locator('.modal-ux .close-modal').first().click();
  // Try it out → Execute on the protected operation.
  const op = page.locator('#operations-default-read_own_items_users_me_items__get');
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  const call = page.waitForResponse(r => r.url().endsWith('/users/me/items/'));
  await op.locator('button.execute').click();
  const resp = await call;
  const status = resp.status();
  const body = await resp.text();
  const cell = op.locator('.live-responses-table tr.response .response-col_status').first();
  await cell.waitFor({ timeout: 10000 }).catch(async e => {
    await page.screenshot({ path: path.join(shots, 'swagger-failed.png'), fullPage: true });
    throw new Error(`no live response shown (${status}): ${e.message.split('\n')[0]}`);
  });
  const shown = (await cell.innerText()).trim();
  await page.screenshot({ path: path.join(shots, 'swagger-authorized.png'), fullPage: true });
  const ok = tokenStatus === 200 && status === 200 && body.includes('Portal Gun') && shown.startsWith('200');
  return { ok, tokenStatus, status, shown, body: body.slice(0, 200) };
}

async function redoc(page) {
  const doc = await (await fetch(`${base}/openapi.json`)).json();
  const expected = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  await page.goto(`${base}/redoc`, { waitUntil: 'networkidle' });
  await page.waitForSelector('[data-section-id*="operation/"]', { timeout: 20000 });
  // Sections by operationId (a tagged one also appears as `tag/<tag>/operation/<id>`).
  const ids = await page.locator('[data-section-id*="operation/"]').evaluateAll(
    els => [...new Set(els.map(e => e.getAttribute('data-section-id').split('operation/').pop()))]);
  const rendered = ids.length;
  const title = await page.locator('h1').first().innerText();
  await page.screenshot({ path: path.join(shots, 'redoc.png'), fullPage: false });
  return { ok: rendered === expected && title.includes(doc.info.title), rendered, expected, title };
}

(async () => {
  const results = {};
  for (const [name, fn] of [['swagger', swagger], ['redoc', redoc]]) {
    try {
      results[name] = await withPage(fn);
    } catch (e) {
      results[name] = { ok: false, error: e.message.split('\n')[0], blocked: [] };
    }
  }
  console.log(JSON.stringify(results, null, 2));
  const ok = Object.values(results).every(r => r.ok && r.blocked.length === 0);
  process.exit(ok ? 0 : 1);
})().catch(e => { console.error(e); process.exit(2); });
