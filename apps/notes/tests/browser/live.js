// The notes page in a real browser (Debian's headless Chromium via playwright-core):
// two browser contexts sign up as two users; the first writes a note; the second
// must see it appear, and its activity entry, without reloading. Then the second
// user's deletion attempt is not offered (it is not their note), and the first one
// deletes it: it disappears from the second page too. Every request that would leave
// the machine is aborted and fails the test.
//
// usage: NODE_PATH=<dir>/node_modules node live.js http://127.0.0.1:8000 [shots-dir]
const { chromium } = require('playwright-core');
const path = require('path');

const base = process.argv[2] || 'http://127.0.0.1:8000';
const shots = process.argv[3] || '.';
const LOCAL = ['127.0.0.1', 'localhost', '[::1]', '::1'];
const blocked = [];
const pageErrors = [];

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  await context.route('**/*', route => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL.includes(url.hostname)) {
      return route.continue();
    }
    blocked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  page.on('websocket', ws => {
    const url = new URL(ws.url());
    if (!LOCAL.includes(url.hostname)) blocked.push(ws.url());
  });
  page.on('pageerror', e => pageErrors.push(e.message));
  return page;
}

async function signUp(page, name) {
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.fill('#username', name);
  await page.fill('#password', 'correct horse battery');
  await page.click('#signup');
  await page.waitForSelector('#board:not([hidden])', { timeout: 15000 });
  await page.waitForSelector('#live.on', { timeout: 15000 });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const suffix = Date.now().toString(36);
  const ann = `ann_${suffix}`;
  const bob = `bob_${suffix}`;
  const title = `Groceries ${suffix}`;
  try {
    const annPage = await newPage(browser);
    const bobPage = await newPage(browser);
    await signUp(annPage, ann);
    await signUp(bobPage, bob);
    const bobNavigations = [];
    bobPage.on('framenavigated', f => { if (f === bobPage.mainFrame()) bobNavigations.push(f.url()); });

    // Ann writes a note.
    await annPage.fill('#new-title', title);
    await annPage.fill('#new-body', 'milk, eggs');
    await annPage.click('#create');
    await annPage.waitForSelector(`#notes li:has-text("${title}")`, { timeout: 10000 });

    // Bob sees it, live, with its author, and the activity entry the job wrote.
    const seen = bobPage.locator('#notes li', { hasText: title });
    await seen.waitFor({ timeout: 10000 });
    const meta = await seen.locator('.meta').innerText();
    if (!meta.includes(ann)) throw new Error(`Bob's page shows the note without its author: ${meta}`);
    if (await seen.locator('button.delete').count() !== 0) {
      throw new Error('Bob is offered to delete a note that is not his');
    }
    await bobPage.locator('#activity li', { hasText: `${ann} wrote “${title}”` }).waitFor({ timeout: 15000 });
    await annPage.locator('#activity li', { hasText: `${ann} wrote “${title}”` }).waitFor({ timeout: 15000 });
    // Ann's page has the note once (from her request and from the live event), and both
    // pages count it.
    const annCopies = await annPage.locator('#notes li', { hasText: title }).count();
    if (annCopies !== 1) throw new Error(`Ann's page shows her note ${annCopies} times`);
    for (const [who, page] of [['Ann', annPage], ['Bob', bobPage]]) {
      const count = await page.locator('#count').innerText();
      if (count !== '(1)') throw new Error(`${who}'s page counts ${count}, not (1)`);
    }
    await bobPage.screenshot({ path: path.join(shots, 'notes-live.png') });

    // Ann deletes it: it leaves Bob's page too.
    await annPage.locator('#notes li', { hasText: title }).locator('button.delete').click();
    await annPage.locator('#notes li', { hasText: title }).waitFor({ state: 'detached', timeout: 10000 });
    await seen.waitFor({ state: 'detached', timeout: 10000 });
    if (bobNavigations.length !== 0) throw new Error(`Bob's page reloaded: ${bobNavigations}`);
    if (blocked.length) throw new Error(`requests tried to leave the machine: ${blocked.join(', ')}`);
    if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.join('; ')}`);
    console.log(`ok   two users, one note: created by ${ann}, seen live by ${bob}, deleted live; nothing left the machine`);
  } finally {
    await browser.close();
  }
})().catch(e => {
  console.error('FAIL notes live page:', e.message);
  process.exit(1);
});
