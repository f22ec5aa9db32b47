// Headless-browser test of the block explorer a validator serves at GET /
// (node/explorer/index.html), run by tests/e2e/test_explorer.sh against a
// real 4-validator testnet. It loads the page from validator 0 in Chromium
// and checks what the page shows against JSON-RPC answers of the same node:
// the latest block, a transfer's block arriving live (GET /events) within
// 2 s of its commit, the transaction found by searching its hash with its
// Merkle proof verified in the browser (and FAILED on a tampered answer),
// the block view with its commit certificate, search by height, block hash
// and address, then validator 1 killed (the page goes on and shows it
// disconnected); validator 1 back, validator 0 itself killed while the
// others commit a block through validator 2 (--other-url), and restarted:
// the page says its node does not answer, then recovers by itself and its
// stream resumes with the block it missed.
//
// Processes are stopped and started by the shell test: this driver asks by
// writing CTL/req-N ("kill 1", "start 1", "kill 0", "start 0") and waits for
// CTL/done-N ("ok" or what went wrong). One line per check, "ok   ..." or
// "FAIL ...", on stdout and in --out; the exit status is 1 if any check
// failed. Every wait is bounded, and the whole run by --time-limit seconds.
//
// node tests/js/explorer.mjs --url http://127.0.0.1:PORT/ --other-url URL
//   --wallet build/wallet --key account0.pem --to ADDRESS --shots DIR
//   --ctl DIR --out FILE [--profile DIR] [--chromium PATH] [--time-limit S]

import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    'other-url': { type: 'string' },
    wallet: { type: 'string' },
    key: { type: 'string' },
    to: { type: 'string' },
    shots: { type: 'string' },
    ctl: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'time-limit': { type: 'string', default: '300' },
  },
});
for (const need of ['url', 'other-url', 'wallet', 'key', 'to', 'shots', 'ctl', 'out']) {
  if (!opt[need]) {
    console.error(`explorer.mjs: --${need} is required`);
    process.exit(2);
  }
}

const SHOWN_WITHIN_MS = 2000; // a committed block must be on the page this soon

/* ---------- reporting ---------- */

let failures = 0;

function line(text) {
  console.log(text);
  fs.appendFileSync(opt.out, text + '\n');
}

function report(ok, what) {
  line((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
  return ok;
}

function note(text) { line('# ' + text); }

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// waitFor: poll fn until it returns something truthy or timeoutMs passes; the last value.
async function waitFor(fn, timeoutMs, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  let value;
  for (;;) {
    try { value = await fn(); } catch (err) { value = undefined; }
    if (value || Date.now() >= end) return value;
    await sleep(everyMs);
  }
}

/* ---------- the node: JSON-RPC, wallet, process control ---------- */

async function rpc(method, params, url = opt.url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(10000),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
  return body.result;
}

// transfer: 1 unit from --key to --to through the node at URL, waiting for its
// commit; {hash, height, committedAt} (committedAt: when the wallet said so).
function transfer(url = opt.url) {
  const args = ['--node', url, 'transfer', '--json', '--key', opt.key, '--to', opt.to,
    '--amount', '1', '--wait', '--timeout-ms', '30000'];
  return new Promise((resolve, reject) => {
    execFile(opt.wallet, args, { timeout: 45000 }, (err, stdout, stderr) => {
      const committedAt = Date.now();
      if (err) { reject(new Error(`wallet transfer: ${err.message} ${stderr}`.trim())); return; }
      try {
        const r = JSON.parse(stdout);
        if (r.status !== 'committed') throw new Error(`status ${r.status}`);
        resolve({ hash: r.hash, height: r.height, committedAt });
      } catch (e) {
        reject(new Error(`wallet transfer: ${e.message}: ${stdout}`));
      }
    });
  });
}

let requests = 0;

// control: ask the shell test to run CMD ("kill 1", "start 0"...) and wait until it did.
async function control(cmd, timeoutMs = 60000) {
  const n = ++requests;
  const req = path.join(opt.ctl, `req-${n}`);
  fs.writeFileSync(req + '.tmp', cmd + '\n');
  fs.renameSync(req + '.tmp', req);
  const done = path.join(opt.ctl, `done-${n}`);
  const answer = await waitFor(() => fs.existsSync(done) && fs.readFileSync(done, 'utf8').trim(), timeoutMs, 100);
  if (answer !== 'ok') throw new Error(`"${cmd}": ${answer || 'no answer in ' + timeoutMs / 1000 + ' s'}`);
}

/* ---------- the page ---------- */

let page;
const pageErrors = [];

async function text(selector) {
  return page.evaluate(sel => {
    const n = document.querySelector(sel);
    return n ? n.textContent.trim() : null;
  }, selector);
}

async function isShown(selector) {
  return page.evaluate(sel => {
    const n = document.querySelector(sel);
    return !!n && !n.hidden && n.getClientRects().length > 0;
  }, selector);
}

async function shot(name) {
  const file = path.join(opt.shots, `explorer-${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true, captureBeyondViewport: true });
    note(`screenshot ${file}`);
  } catch (err) {
    note(`screenshot ${name} failed: ${err.message}`);
  }
}

// watchLatestHash: from now on the page records when each hash first shows in #latest-hash.
async function watchLatestHash() {
  await page.evaluate(() => {
    window.__seenAt = window.__seenAt || {};
    const node = document.getElementById('latest-hash');
    const record = () => { window.__seenAt[node.textContent.trim()] ??= Date.now(); };
    record();
    if (!window.__seenObserver) {
      window.__seenObserver = new MutationObserver(record);
      window.__seenObserver.observe(node, { childList: true, characterData: true, subtree: true });
    }
  });
}

// search: type QUERY into the search box and submit it.
async function search(query) {
  await page.click('#search', { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await page.type('#search', query);
  await page.keyboard.press('Enter');
}

/* ---------- the checks ---------- */

// expectNewBlock: a transfer commits; the page shows its block as the newest within 2 s.
async function expectNewBlock(what) {
  await watchLatestHash();
  let t;
  try {
    t = await transfer();
  } catch (err) {
    report(false, `${what}: a transfer commits (${err.message})`);
    return null;
  }
  const block = await rpc('block', { height: t.height });
  const seenAt = await waitFor(() => page.evaluate(h => window.__seenAt[h], block.hash), 5000);
  const lag = seenAt ? seenAt - t.committedAt : null;
  report(seenAt && lag <= SHOWN_WITHIN_MS,
    `${what}: the page shows block ${t.height} (${block.hash.slice(0, 12)}) within 2 s of its commit` +
    (seenAt ? ` (${lag} ms after the wallet's commit answer, ${seenAt - block.header.time_ms} ms after ` +
      `the block's header time)` : ' (not shown in 5 s)'));
  return { ...t, block };
}

// checkLatest: the page agrees with the node's answers; validator 1 shows as PEER1.
async function checkLatest(peer1) {
  const tip = await rpc('block');
  const shown = await waitFor(async () => (await text('#latest-hash')) === tip.hash && tip.hash, 10000);
  report(shown, `the explorer shows the latest block hash that JSON-RPC block returns ` +
    `(${tip.header.height}: ${tip.hash.slice(0, 12)}; page: ${(await text('#latest-hash') || '').slice(0, 12)})`);
  const rows = await page.evaluate(() => [...document.querySelectorAll('#blocks tr')]
    .map(r => ({ height: Number(r.dataset.height), hash: r.dataset.hash })));
  const want = Math.min(20, tip.header.height);
  const chain = await rpc('blockchain', { min_height: tip.header.height - want + 1, max_height: tip.header.height });
  const hashes = new Map(chain.blocks.map(b => [b.header.height, b.hash]));
  const wrong = rows.filter((r, i) => r.height !== tip.header.height - i || hashes.get(r.height) !== r.hash);
  report(rows.length === want && wrong.length === 0,
    `the block table lists the ${want} newest blocks, newest first, each with the hash blockchain gives ` +
    `(rows ${rows.length ? rows[0].height + '..' + rows[rows.length - 1].height : 'none'}` +
    `${wrong.length ? ', wrong: ' + wrong.map(r => r.height).join(' ') : ''})`);
  const status = await rpc('status');
  report(await waitFor(async () => await text('#chain-id') === status.chain_id &&
    await text('#height') === String(status.height), 3000),
    `the status shows chain ${status.chain_id} at height ${status.height}`);
  const mempool = await rpc('num_unconfirmed_txs');
  report(await waitFor(async () => (await text('#mempool')) === String(mempool.count), 3000),
    `the mempool size matches num_unconfirmed_txs (${mempool.count})`);
  report(await waitFor(async () => (await text('#peer-1 .link')) === peer1, 15000),
    `validator 1 is listed ${peer1} ("${await text('#peer-1 .link')}")`);
}

// searchTx: search HASH; the text of #tx-proof once the page shows that transaction.
async function searchTx(hash) {
  await page.evaluate(() => { location.hash = ''; });
  await search(hash);
  return waitFor(() => page.evaluate(h => {
    const view = document.querySelector(`#tx-view[data-hash="${h}"]`);
    const p = document.getElementById('tx-proof');
    return view && p && p.textContent ? p.textContent : null;
  }, hash), 10000);
}

async function checkTxSearch(t) {
  const proof = await searchTx(t.hash);
  const status = await text('#tx-status');
  report(status === 'committed', `searching the transfer's hash shows the transaction, committed (${status})`);
  report(proof === 'verified', `its Merkle proof is checked in the browser: #tx-proof "${proof}"`);
  const json = await text('#tx-json');
  let view = null;
  try { view = JSON.parse(json); } catch (err) { /* reported below */ }
  report(view && view.hash === t.hash && view.type === 'transfer' && view.to === opt.to,
    'the transaction view shows its JSON (hash, type transfer, recipient)');
  await shot('tx');
}

// checkBlockProofs: every transaction of the fullest recent block (the shell
// test made one of 3 or more) has its proof verified: paths of several steps,
// and the odd-count rule of the tree.
async function checkBlockProofs() {
  const chain = await rpc('blockchain');
  const best = chain.blocks.reduce((a, b) => (b.header.tx_count > a.header.tx_count ? b : a));
  const block = await rpc('block', { height: best.header.height });
  const results = [];
  for (const hash of block.txs.slice(0, 16)) results.push(await searchTx(hash));
  const verified = results.filter(r => r === 'verified').length;
  report(block.txs.length >= 3 && verified === results.length,
    `every transaction of block ${best.header.height} (${block.txs.length} transactions) has its proof verified ` +
    `in the browser (${verified} of ${results.length}${verified < results.length ? ': ' + results.join(', ') : ''})`);
  if (block.txs.length >= 2) { // a proof of more than one step, for the picture
    await searchTx(block.txs[1]);
    await shot('tx-path');
  }
}

// checkTamperedProof: the same search answered with a proof that has one extra
// step (the page's JSON-RPC answer is rewritten in flight) must show FAILED.
async function checkTamperedProof(t) {
  const rewrite = async req => {
    const body = req.method() === 'POST' ? req.postData() || '' : '';
    if (!body.includes('"method":"tx"')) { req.continue(); return; }
    try {
      const real = await fetch(opt.url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' },
        signal: AbortSignal.timeout(10000) });
      const answer = await real.json();
      if (answer.result && answer.result.proof) answer.result.proof.path.push('00'.repeat(32));
      req.respond({ status: 200, contentType: 'application/json', body: JSON.stringify(answer) });
    } catch (err) {
      req.abort();
    }
  };
  await page.setRequestInterception(true);
  page.on('request', rewrite);
  try {
    // the view of an earlier search (of this very transaction, maybe) must not answer for this one
    await page.evaluate(() => { document.getElementById('tx-view')?.remove(); });
    const proof = await searchTx(t.hash);
    report(proof === 'FAILED', `a tampered proof (one extra path step) shows #tx-proof "${proof}"`);
    await shot('tampered');
  } finally {
    page.off('request', rewrite);
    await page.setRequestInterception(false);
  }
}

async function checkBlockView(t) {
  const vals = await rpc('validators');
  await page.evaluate(() => { location.hash = ''; });
  await page.click(`#block-${t.height} a`);
  const shown = await waitFor(() => page.evaluate(h => !!document.querySelector(`#block-view[data-height="${h}"]`),
    t.height), 10000);
  report(shown && (await page.evaluate(() => document.getElementById('block-view').dataset.hash)) === t.block.hash,
    `clicking block ${t.height} shows its block view`);
  report(await text('#block-hash-check') === 'verified', 'the block header hashes to the block hash (checked in the browser)');
  const signers = await page.evaluate(() => [...document.querySelectorAll('#block-cert tr')]
    .filter(r => r.querySelector('.yes')).map(r => r.children[1].textContent));
  const want = t.block.cert.votes.map(v => vals.validators.find(x => x.index === v.validator).id);
  report(signers.length >= vals.quorum && signers.join(',') === want.join(','),
    `its commit certificate lists the signers by id (${signers.join(', ')}; quorum ${vals.quorum})`);
  const txs = await page.evaluate(() => [...document.querySelectorAll('#block-txs a')].map(a => a.textContent));
  report(txs.includes(t.hash), 'the block view lists the transfer among its transactions');
  await shot('block');
}

async function checkSearches(t) {
  await page.evaluate(() => { location.hash = ''; });
  await search(String(t.height));
  report(await waitFor(() => page.evaluate(h => document.getElementById('block-view')?.dataset.hash === h,
    t.block.hash), 10000), `searching height ${t.height} shows that block`);
  await page.evaluate(() => { location.hash = ''; });
  await search(t.block.hash.toUpperCase());
  report(await waitFor(() => page.evaluate(h => document.getElementById('block-view')?.dataset.height === String(h),
    t.height), 10000), 'searching the block hash (upper case) shows that block');
  const account = await rpc('account', { address: opt.to });
  await search('0x' + opt.to);
  const balance = await waitFor(async () => {
    if (!(await isShown('#account-view'))) return null;
    return (await text('#account-balance') || '').replace(/\D/g, '');
  }, 10000);
  report(balance === account.balance && await text('#account-nonce') === String(account.nonce) &&
    await text('#account-pending-nonce') === String(account.pending_nonce),
    `searching the recipient's address shows its balance ${account.balance} and nonces`);
  const values = await text('#account-values') || '';
  report(values.includes('greeting') && values.includes('hello, chain'),
    `the account shows the values it set (${JSON.stringify(values)})`);
  await search('no such thing');
  report(await waitFor(() => isShown('#search-error'), 3000), 'a search that is not a height, hash or address says so');
  await page.evaluate(() => { location.hash = ''; });
}

async function checkPeerDown() {
  try {
    await control('kill 1');
  } catch (err) {
    report(false, `validator 1 is killed (${err.message})`);
    return;
  }
  note('validator 1 killed');
  await expectNewBlock('with validator 1 down');
  const link = await waitFor(async () => (await text('#peer-1 .link')) === 'disconnected' && 'disconnected', 15000);
  report(link, `the peers list shows validator 1 disconnected ("${await text('#peer-1 .link')}")`);
  report(!(await isShown('#status-error')), 'the page does not report its own node down');
  await shot('peer-down');
}

// checkOwnNodeDown: validator 1 comes back, then validator 0, which serves the
// page, is killed; the page says so while the others commit a block without
// it; once validator 0 is back the page recovers and its stream resumes
// (Last-Event-ID) with the block it missed.
async function checkOwnNodeDown() {
  try {
    await control('start 1');
    note('validator 1 restarted and caught up');
    await control('kill 0');
  } catch (err) {
    report(false, `validator 1 restarts and validator 0 is killed (${err.message})`);
    return;
  }
  note('validator 0 (the one serving the page) killed');
  const down = await waitFor(() => isShown('#status-error'), 8000);
  report(down, `the page says its node does not answer: "${down ? await text('#status-error') : ''}"`);
  let missed = null;
  try {
    missed = await transfer(opt['other-url']);
    note(`block ${missed.height} committed by validators 1, 2, 3 while validator 0 is down`);
  } catch (err) {
    report(false, `a transfer commits through validator 2 while validator 0 is down (${err.message})`);
  }
  await shot('node-down');
  try {
    await control('start 0');
  } catch (err) {
    report(false, `validator 0 restarts (${err.message})`);
    return;
  }
  note('validator 0 restarted');
  report(await waitFor(async () => !(await isShown('#status-error')), 10000),
    'once it answers again the page clears the error by itself');
  if (missed) {
    const b = await rpc('block', { height: missed.height }, opt['other-url']);
    report(await waitFor(() => page.evaluate((h, hash) => document.getElementById('block-' + h)?.dataset.hash === hash,
      missed.height, b.hash), 20000),
      `the stream resumes with block ${missed.height}, committed while the page's node was down`);
  }
  report(await waitFor(async () => (await text('#stream-state')) === 'live', 10000),
    `the block stream is live again ("${await text('#stream-state')}")`);
  await expectNewBlock('after validator 0 restarted');
  await checkLatest('connected');
  await shot('recovered');
}

/* ---------- main ---------- */

async function main() {
  const browser = await puppeteer.launch({
    executablePath: opt.chromium,
    headless: true,
    args: ['--no-sandbox', '--headless=new'],
    userDataDir: opt.profile,
    protocolTimeout: 30000,
    timeout: 30000,
  });
  fs.writeFileSync(path.join(opt.ctl, 'browser.pid'), String(browser.process()?.pid ?? ''));
  const stopBrowser = () => { try { browser.process()?.kill('SIGKILL'); } catch (err) { /* gone */ } };
  const limit = setTimeout(() => {
    report(false, `the browser checks finish within ${opt['time-limit']} s`);
    stopBrowser();
    process.exit(1);
  }, Number(opt['time-limit']) * 1000);
  try {
    page = await browser.newPage();
    page.setDefaultTimeout(15000);
    await page.setViewport({ width: 1280, height: 900 });
    page.on('pageerror', err => pageErrors.push(err.message));
    page.on('console', msg => {
      if (msg.type() === 'error' && /^Uncaught/.test(msg.text())) pageErrors.push(msg.text());
    });

    const res = await page.goto(opt.url, { waitUntil: 'domcontentloaded', timeout: 15000 });
    report(res && res.ok() && /^text\/html/.test(res.headers()['content-type'] || ''),
      `GET ${opt.url} answers HTML (${res && res.status()} ${res && res.headers()['content-type']})`);
    await checkLatest('connected');
    await shot('live');

    const t = await expectNewBlock('a new transfer');
    if (t) {
      await checkTxSearch(t);
      await checkBlockProofs();
      await checkTamperedProof(t);
      await checkBlockView(t);
      await checkSearches(t);
    }
    await checkPeerDown();
    await checkOwnNodeDown();
    report(pageErrors.length === 0, `no uncaught JavaScript errors on the page${pageErrors.length ? ': ' +
      pageErrors.slice(0, 3).join(' | ') : ''}`);
  } catch (err) {
    report(false, `the browser checks run to the end (${err.stack || err.message})`);
    if (page) await shot('error');
  } finally {
    clearTimeout(limit);
    await Promise.race([browser.close(), sleep(10000)]);
    stopBrowser();
  }
}

await main();
process.exit(failures ? 1 : 0);
