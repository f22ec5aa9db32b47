#!/usr/bin/env node
// follow.mjs: follows a chaind network's event stream from a list of
// validators and checks, as events come in, that nothing is lost or
// repeated. For the end-to-end test tests/e2e/test_events.sh.
//
//   node follow.mjs --mode poll|sse --urls URL[,URL...] --out FILE
//        [--account ADDR] [--from-height N] [--until-height H]
//        [--progress FILE] [--cut-ms MS] [--rotate] [--timeout-ms MS]
//        [--limit N|random] [--max-run-ms MS]
//
// poll: JSON-RPC `events` long polls ({from_height, account, timeout_ms,
//   limit}), each resumed from the previous answer's next_height.
// sse:  GET /events?from_height=N[&account=A] through EventSource; each
//   reconnection is a new EventSource whose Last-Event-ID header is the id
//   of the last event this client processed.
// In both modes the client cuts its own connection every --cut-ms (random
// between 0.5x and 1.5x; 0: never) and resumes where it stopped, on the
// same validator, or on the next one with --rotate. A validator that fails
// (refused, reset, HTTP or JSON-RPC error, no answer in time) is left for
// the next one in the list.
//
// Checked as events arrive: block heights run from --from-height up by one
// with no gap or repeat; tx events follow their own block's event, ordinals
// strictly increasing (consecutive, and as many as the block's tx_count,
// without --account); no tx hash twice; with --account every tx is from or
// to that address; ids are "<height>-<ordinal>" and agree with the payload;
// in poll mode each answer starts at from_height with a block event,
// next_height is the height after its last block, and more than `limit`
// events only when the answer is one block.
//
// On SIGTERM/SIGINT, at --until-height H (block H and all of its events
// received) or after --max-run-ms, it writes the summary to --out (JSON:
// blocks [[height, hash, tx_count]], txs [[height, index, hash]] in the
// order received, violations, stats) and exits 0. Any other exit is a crash.
import fs from 'node:fs';
import EventSource from 'eventsource';

// ---------------------------------------------------------------- options
function parseArgs(argv) {
  const o = {
    mode: null, urls: [], out: null, account: null, fromHeight: 1,
    untilHeight: null, progress: null, cutMs: 2000, rotate: false,
    timeoutMs: 5000, limit: null, maxRunMs: 600000,
  };
  const need = (i) => {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--mode': o.mode = need(i); i++; break;
      case '--urls': o.urls = need(i).split(',').filter(Boolean); i++; break;
      case '--out': o.out = need(i); i++; break;
      case '--account': o.account = need(i).toLowerCase().replace(/^0x/, ''); i++; break;
      case '--from-height': o.fromHeight = int(need(i), a); i++; break;
      case '--until-height': o.untilHeight = int(need(i), a); i++; break;
      case '--progress': o.progress = need(i); i++; break;
      case '--cut-ms': o.cutMs = int(need(i), a); i++; break;
      case '--rotate': o.rotate = true; break;
      case '--timeout-ms': o.timeoutMs = int(need(i), a); i++; break;
      case '--limit': o.limit = need(i) === 'random' ? 'random' : int(need(i), a); i++; break;
      case '--max-run-ms': o.maxRunMs = int(need(i), a); i++; break;
      case '-h': case '--help': usage(null); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  if (o.mode !== 'poll' && o.mode !== 'sse') usage('--mode must be poll or sse');
  if (o.urls.length === 0) usage('--urls is required');
  if (!o.out) usage('--out is required');
  if (o.fromHeight < 1) usage('--from-height must be >= 1');
  return o;
}
function int(s, name) {
  if (!/^\d+$/.test(s)) usage(`${name}: not a whole number: ${s}`);
  return Number(s);
}
function usage(msg) {
  if (msg) process.stderr.write(`follow: ${msg}\n`);
  process.stderr.write('usage: node follow.mjs --mode poll|sse --urls URL[,URL...] --out FILE ' +
    '[--account ADDR] [--from-height N] [--until-height H] [--progress FILE] [--cut-ms MS] ' +
    '[--rotate] [--timeout-ms MS] [--limit N|random] [--max-run-ms MS]\n');
  process.exit(msg ? 2 : 0);
}

const opt = parseArgs(process.argv.slice(2));
const t0 = Date.now();
const log = (msg) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(3)} ${opt.mode}: ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jitter = (ms) => Math.round(ms * (0.5 + Math.random()));

// ---------------------------------------------------------------- state and checks
const MAX_VIOLATIONS = 200;
const st = {
  next: opt.fromHeight, // height of the next block event expected
  resume: opt.fromHeight, // poll: from_height of the next request (the last next_height)
  cur: null,            // {height, hash, txCount, lastOrd, nTx}: the last block event
  lastId: null,         // id of the last event processed (resume point)
  blocks: [],           // [height, hash, tx_count]
  txs: [],              // [height, index, hash]
  seenTx: new Map(),    // hash -> id
  violations: [],
  nViolations: 0,
  stats: {
    events: 0, block_events: 0, tx_events: 0, requests: 0, answers: 0,
    empty_answers: 0, early_empty_answers: 0, connections: 0, cuts: 0, failovers: 0, errors: 0,
    url_switches: 0, resumes_with_last_event_id: 0, cuts_in_block: 0,
  },
  errors: {},           // message -> count
  urlIndex: 0,
  done: false,
};

function violation(msg) {
  st.nViolations++;
  if (st.violations.length < MAX_VIOLATIONS) st.violations.push(msg);
  log(`VIOLATION ${msg}`);
}
function noteError(msg) {
  st.stats.errors++;
  const k = String(msg).slice(0, 200);
  st.errors[k] = (st.errors[k] || 0) + 1;
}

// closeBlock checks the last block's tx events are all there (without an
// account filter every tx of the block is an event).
function closeBlock() {
  const c = st.cur;
  if (c && !opt.account && c.nTx !== c.txCount) {
    violation(`block ${c.height}: ${c.nTx} tx events, its tx_count is ${c.txCount}`);
  }
}

const ID_RE = /^(\d+)-(\d+)$/;
const HEX64 = /^[0-9a-f]{64}$/;

// onEvent processes one event object; where says where it came from.
function onEvent(ev, where) {
  st.stats.events++;
  if (typeof ev !== 'object' || ev === null) { violation(`${where}: event is not an object`); return; }
  const m = typeof ev.id === 'string' ? ID_RE.exec(ev.id) : null;
  if (!m) { violation(`${where}: bad id ${JSON.stringify(ev.id)}`); return; }
  const idH = Number(m[1]);
  const ord = Number(m[2]);
  if (ev.height !== idH) violation(`${where}: id ${ev.id} with height ${ev.height}`);
  const h = idH;
  if (ev.kind === 'block') {
    st.stats.block_events++;
    if (ord !== 0) violation(`${where}: block event with id ${ev.id}`);
    if (typeof ev.hash !== 'string' || !HEX64.test(ev.hash)) violation(`${where}: block ${h} hash ${ev.hash}`);
    if (!Number.isInteger(ev.tx_count) || ev.tx_count < 0) violation(`${where}: block ${h} tx_count ${ev.tx_count}`);
    closeBlock();
    if (h !== st.next) {
      if (h < st.next) violation(`${where}: block ${h} again or out of order (expected ${st.next})`);
      else violation(`${where}: blocks ${st.next}..${h - 1} missing (got ${h})`);
    }
    st.next = Math.max(st.next, h + 1);
    st.cur = { height: h, hash: ev.hash, txCount: ev.tx_count, lastOrd: 0, nTx: 0 };
    st.blocks.push([h, ev.hash, ev.tx_count]);
  } else if (ev.kind === 'tx') {
    st.stats.tx_events++;
    const c = st.cur;
    if (ord < 1) violation(`${where}: tx event with id ${ev.id}`);
    if (ev.index !== ord - 1) violation(`${where}: tx event ${ev.id} with index ${ev.index}`);
    if (typeof ev.hash !== 'string' || !HEX64.test(ev.hash)) violation(`${where}: tx ${ev.id} hash ${ev.hash}`);
    if (!c || c.height !== h) {
      violation(`${where}: tx event ${ev.id} not after its block's event (last block event ${c ? c.height : 'none'})`);
    } else {
      if (ord <= c.lastOrd) violation(`${where}: tx event ${ev.id} after ${h}-${c.lastOrd}`);
      else if (!opt.account && ord !== c.lastOrd + 1) violation(`${where}: tx events ${h}-${c.lastOrd + 1}..${h}-${ord - 1} missing`);
      if (ord > c.txCount) violation(`${where}: tx event ${ev.id} beyond the block's tx_count ${c.txCount}`);
      c.lastOrd = Math.max(c.lastOrd, ord);
      c.nTx++;
    }
    const prev = st.seenTx.get(ev.hash);
    if (prev !== undefined) violation(`${where}: tx ${ev.hash} again as ${ev.id} (first as ${prev})`);
    else st.seenTx.set(ev.hash, ev.id);
    if (opt.account) {
      const tx = ev.tx || {};
      if (tx.from !== opt.account && tx.to !== opt.account) {
        violation(`${where}: tx ${ev.id} neither from nor to ${opt.account} (from ${tx.from}, to ${tx.to})`);
      }
    }
    st.txs.push([h, ev.index, ev.hash]);
  } else {
    violation(`${where}: unknown kind ${JSON.stringify(ev.kind)} (id ${ev.id})`);
  }
  st.lastId = ev.id;
}

// reachedUntil: block --until-height and all its events have arrived, as
// far as this client can tell.
function reachedUntil() {
  if (opt.untilHeight === null) return false;
  if (st.next > opt.untilHeight + 1) return true; // a later block's event came
  const c = st.cur;
  if (!c || c.height < opt.untilHeight) return false;
  if (!opt.account) return c.nTx >= c.txCount;
  return opt.mode === 'poll'; // poll answers hold whole blocks
}

// ---------------------------------------------------------------- progress and summary
let progressAt = 0;
function writeProgress(force) {
  if (!opt.progress) return;
  const now = Date.now();
  if (!force && now - progressAt < 200) return;
  progressAt = now;
  const p = {
    height: st.cur ? st.cur.height : opt.fromHeight - 1,
    last_id: st.lastId, events: st.stats.events, violations: st.nViolations,
    url: opt.urls[st.urlIndex], t_ms: now - t0,
  };
  writeAtomic(opt.progress, JSON.stringify(p) + '\n');
}
function writeAtomic(file, text) {
  const tmp = `${file}.tmp.${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
function finish(reason) {
  if (st.done) return;
  st.done = true;
  const summary = {
    mode: opt.mode, account: opt.account, urls: opt.urls, from_height: opt.fromHeight,
    until_height: opt.untilHeight, reason, run_ms: Date.now() - t0,
    last_height: st.cur ? st.cur.height : opt.fromHeight - 1, last_id: st.lastId,
    blocks: st.blocks, txs: st.txs, violations: st.violations,
    violation_count: st.nViolations, stats: st.stats, errors: st.errors,
  };
  writeAtomic(opt.out, JSON.stringify(summary) + '\n');
  writeProgress(true);
  log(`done (${reason}): ${st.blocks.length} blocks, ${st.txs.length} txs, ` +
    `${st.nViolations} violations, ${st.stats.cuts} cuts, ${st.stats.failovers} failovers`);
  process.exit(0);
}
process.on('SIGTERM', () => finish('sigterm'));
process.on('SIGINT', () => finish('sigint'));
setTimeout(() => finish('max-run'), opt.maxRunMs).unref();

function nextUrl(why) {
  if (opt.urls.length > 1) {
    st.urlIndex = (st.urlIndex + 1) % opt.urls.length;
    st.stats.url_switches++;
  }
  log(`${why}: now ${opt.urls[st.urlIndex]}`);
}

// ---------------------------------------------------------------- poll mode
async function runPoll() {
  let inflight = null; // AbortController of the request under way
  const cut = () => {
    if (st.done) return;
    if (inflight) inflight.abort('cut');
    setTimeout(cut, jitter(opt.cutMs));
  };
  if (opt.cutMs > 0) setTimeout(cut, jitter(opt.cutMs));
  let backoff = 100;
  while (!st.done) {
    const url = opt.urls[st.urlIndex];
    const params = { from_height: st.resume, timeout_ms: opt.timeoutMs };
    if (opt.account) params.account = opt.account;
    let limit = null;
    if (opt.limit === 'random') {
      if (Math.random() < 0.5) limit = 1 + Math.floor(Math.random() * 200);
    } else if (opt.limit !== null) {
      limit = opt.limit;
    }
    if (limit !== null) params.limit = limit;
    const body = JSON.stringify({ jsonrpc: '2.0', id: st.stats.requests + 1, method: 'events', params });
    const ac = new AbortController();
    inflight = ac;
    const hard = setTimeout(() => ac.abort('timeout'), opt.timeoutMs + 5000);
    st.stats.requests++;
    const startedAt = Date.now();
    let answer;
    try {
      const res = await fetch(url, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal: ac.signal,
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 100)}`);
      const j = JSON.parse(text);
      if (j.error) throw new Error(`JSON-RPC error ${j.error.code}: ${j.error.message}`);
      answer = j.result;
    } catch (e) {
      clearTimeout(hard);
      inflight = null;
      if (st.done) return;
      if (ac.signal.aborted && ac.signal.reason === 'cut') {
        st.stats.cuts++;
        if (opt.rotate) nextUrl('cut');
        continue;
      }
      const msg = ac.signal.aborted ? `no answer in ${opt.timeoutMs + 5000} ms` : (e.cause ? `${e.message}: ${e.cause.code || e.cause.message}` : e.message);
      noteError(msg);
      st.stats.failovers++;
      nextUrl(`${url}: ${msg}`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 1000);
      continue;
    }
    clearTimeout(hard);
    inflight = null;
    backoff = 100;
    st.stats.answers++;
    const tookMs = Date.now() - startedAt;
    onAnswer(answer, params, url);
    if (answer && Array.isArray(answer.events) && answer.events.length === 0) {
      // with block events asked for, an empty answer comes after timeout_ms
      // (or after a commit below from_height on a validator behind)
      if (tookMs < opt.timeoutMs / 2) {
        st.stats.early_empty_answers++;
        log(`empty answer after ${tookMs} ms from ${url} (from_height ${params.from_height}, tip ${answer.height})`);
      }
      if (tookMs < 50) await sleep(100);
    }
    writeProgress(false);
    if (reachedUntil()) finish('until-height');
  }
}

function onAnswer(r, params, url) {
  const where = `events(from_height ${params.from_height}) from ${url}`;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.events) ||
      !Number.isInteger(r.next_height) || !Number.isInteger(r.height)) {
    violation(`${where}: malformed result ${JSON.stringify(r).slice(0, 200)}`);
    return; // ask again from the same height
  }
  const evs = r.events;
  if (evs.length === 0) {
    st.stats.empty_answers++;
    // block events are not filtered by account: an empty answer skips no height
    if (r.next_height !== params.from_height) violation(`${where}: no events but next_height ${r.next_height}`);
  } else {
    const first = evs[0];
    if (first.kind !== 'block' || first.height !== params.from_height) {
      violation(`${where}: answer starts with ${first.kind} ${first.id}`);
    }
    const last = evs[evs.length - 1];
    if (r.next_height !== last.height + 1) violation(`${where}: next_height ${r.next_height} after last event ${last.id}`);
    if (r.height < last.height) violation(`${where}: tip height ${r.height} below event height ${last.height}`);
    if (params.limit !== undefined && evs.length > params.limit &&
        !evs.every((e) => e.height === first.height)) {
      violation(`${where}: ${evs.length} events over limit ${params.limit} across several blocks`);
    }
    for (const ev of evs) onEvent(ev, where);
    // an answer holds whole blocks: the last one must be complete now
    if (!opt.account && st.cur && st.cur.nTx !== st.cur.txCount) {
      violation(`${where}: block ${st.cur.height} cut: ${st.cur.nTx} of ${st.cur.txCount} tx events`);
      st.cur.txCount = st.cur.nTx; // reported once
    }
  }
  // resume from next_height, as a client would (a next_height that goes
  // back is not followed: it was reported above and would loop)
  if (r.next_height >= params.from_height) st.resume = r.next_height;
  else violation(`${where}: next_height ${r.next_height} below from_height`);
}

// ---------------------------------------------------------------- SSE mode
function runSse() {
  let es = null;
  let gen = 0;
  let cutTimer = null;
  let connectTimer = null;
  let backoff = 200;

  const streamUrl = (base) => {
    const u = new URL('events', base);
    u.searchParams.set('from_height', String(opt.fromHeight));
    if (opt.account) u.searchParams.set('account', opt.account);
    return u.toString();
  };
  const drop = () => {
    if (cutTimer) clearTimeout(cutTimer);
    if (connectTimer) clearTimeout(connectTimer);
    cutTimer = connectTimer = null;
    if (es) { es.close(); es = null; }
    gen++;
  };
  const connect = () => {
    if (st.done) return;
    const my = ++gen;
    const base = opt.urls[st.urlIndex];
    const url = streamUrl(base);
    const init = {};
    if (st.lastId) {
      init.headers = { 'Last-Event-ID': st.lastId };
      st.stats.resumes_with_last_event_id++;
    }
    st.stats.connections++;
    const src = new EventSource(url, init);
    es = src;
    const where = () => `GET /events from ${base}`;
    connectTimer = setTimeout(() => {
      if (my !== gen) return;
      noteError('no open in 5000 ms');
      fail('no open in 5000 ms');
    }, 5000);
    const cutNow = (why) => {
      if (my !== gen) return;
      drop();
      st.stats.cuts++;
      if (why === 'cut in a block') st.stats.cuts_in_block++;
      if (opt.rotate) nextUrl(why);
      setTimeout(connect, 10);
    };
    const fail = (msg) => {
      if (my !== gen) return;
      drop();
      st.stats.failovers++;
      nextUrl(`${base}: ${msg}`);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 1000);
    };
    src.onopen = () => {
      if (my !== gen) return;
      clearTimeout(connectTimer);
      connectTimer = null;
      backoff = 200;
      if (opt.cutMs > 0) {
        cutTimer = setTimeout(() => {
          if (my !== gen) return;
          // half of the cuts come at once, the others right after the next
          // tx event, so that resumption also starts inside a block
          if (Math.random() < 0.5) cutNow('cut');
          else cutAfterTx = my;
        }, jitter(opt.cutMs));
      }
    };
    src.onerror = (e) => {
      if (my !== gen) return;
      const msg = e && (e.status ? `HTTP ${e.status}` : (e.message || 'stream closed'));
      noteError(msg || 'error');
      fail(msg || 'error');
    };
    const handler = (kind) => (e) => {
      if (my !== gen || st.done) return; // events parsed after a close are not processed
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch (err) {
        violation(`${where()}: data is not JSON: ${String(e.data).slice(0, 100)}`);
        return;
      }
      if (ev.kind !== kind) violation(`${where()}: event type ${kind} with kind ${ev.kind} (id ${ev.id})`);
      if (e.lastEventId !== ev.id) violation(`${where()}: SSE id ${e.lastEventId} with data id ${ev.id}`);
      onEvent(ev, where());
      writeProgress(false);
      if (reachedUntil()) {
        finish('until-height');
        return;
      }
      if (opt.untilHeight !== null && opt.account && st.cur && st.cur.height >= opt.untilHeight) {
        // with an account filter the end of block H is not marked: give
        // its tx events a second, then stop
        if (!quietTimer) quietTimer = setTimeout(() => finish('until-height'), 1000);
      }
      if (cutAfterTx === my && kind === 'tx') {
        cutAfterTx = 0;
        cutNow('cut in a block');
      }
    };
    src.addEventListener('block', handler('block'));
    src.addEventListener('tx', handler('tx'));
    src.onmessage = (e) => {
      if (my !== gen) return;
      violation(`${where()}: event without a type: ${String(e.data).slice(0, 100)}`);
    };
  };
  let quietTimer = null;
  let cutAfterTx = 0; // the generation to cut after its next tx event
  connect();
}

setInterval(() => writeProgress(false), 300);
log(`following ${opt.urls.join(' ')} from height ${opt.fromHeight}` +
  (opt.account ? ` for ${opt.account}` : '') + (opt.untilHeight !== null ? ` until ${opt.untilHeight}` : ''));
writeProgress(true);
if (opt.mode === 'poll') {
  runPoll().catch((e) => { log(`crash: ${e.stack}`); process.exit(1); });
} else {
  runSse();
}
