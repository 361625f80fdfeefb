// The page's copy of itself on the visitor's device, so that a second visit costs a few
// kilobytes and the page opens, shows its pretrained models and trains without a network (a
// classroom whose Wi-Fi drops keeps its demo). `sw=0` in the page's link turns it off.
//
// scripts/offline-manifest.sh writes this file into each build, after one line that gives the
// build's FILES: every file of the build (relative to this script's folder) with its revision,
// the start of its SHA-256. A new build is a new sw.js, so the browser installs it; it takes
// over at once, and deletes each kept file whose revision it does not list.
//
// What it keeps: each file of the build the page fetches, when it fetches it (the shell, the
// engine, the pretrained weights and first-view packs, the data shards fetched), plus what the
// page fetched before this worker took control on a first visit (the page sends that list).
// What a visitor never fetched is never downloaded for the copy.
//
// How it answers: a file kept at the build's revision comes from the copy. index.html and the
// data manifest come from the network when it answers, so a new build is seen at once, and from
// the copy when it does not. A build's files are never mixed with another's: when the network's
// index.html is not this build's, a new build is out, and until its worker takes over this one
// passes every request to the network, keeping nothing. It asks the registration as well as
// remembering: the browser may stop this worker and start it afresh while a page it answered
// still loads, and a newer worker in the registration says the same as the network did.

/* global FILES, ENABLED */
const CACHE = 'fmnist-ae';
/** Fetched from the network first: a new build shows in these first. */
const REVALIDATED = new Set(['index.html', 'data/fashion-mnist/manifest.json']);
/** The cached response's header that holds its revision. */
const REVISION = 'x-offline-revision';
/** Response headers not kept: the copy holds the decoded body. */
const DROPPED = ['content-encoding', 'content-length', 'transfer-encoding'];

const scope = new URL(self.registration.scope);
/** The network serves another build than this one: pass everything through until it is in. */
let stale = false;
/** Asked to retire (`sw=0`): the pages it still controls must not fill the copy again. */
let retired = false;

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));

self.addEventListener('activate', (event) => event.waitUntil(ENABLED ? activate() : retire()));

self.addEventListener('fetch', (event) => {
  if (!ENABLED || retired || event.request.method !== 'GET') return;
  const path = buildPath(event.request);
  if (path === null) return;
  event.respondWith(REVALIDATED.has(path) ? networkFirst(event, path) : copyFirst(event, path));
});

// On a first visit the page loaded its first files before this worker controlled it: it sends
// their addresses once it is idle, and those of the build are kept as well (from the browser's
// cache, as a rule: no bytes over the wire). A page opened with `sw=0` asks the worker to retire.
self.addEventListener('message', (event) => {
  if (event.data?.retire) return event.waitUntil(retire());
  // A page this worker does not control asks to be taken (public/boot.js says when).
  if (event.data?.claim) {
    if (ENABLED && !retired && !outdated()) event.waitUntil(self.clients.claim());
    return;
  }
  const urls = event.data?.fetched;
  if (!ENABLED || retired || !Array.isArray(urls)) return;
  event.waitUntil(Promise.all(urls.map(async (url) => {
    const path = buildPath(new Request(url));
    if (path === null || outdated() || (await kept(path))) return;
    const response = await fetch(url, { cache: 'force-cache' }).catch(() => null);
    if (response?.ok) await keep(path, response);
  })));
});

/** Takes over the open pages, and forgets what no longer belongs to the build. */
async function activate() {
  const cache = await caches.open(CACHE);
  for (const request of await cache.keys()) {
    const path = buildPath(request);
    const response = await cache.match(request);
    if (path === null || response?.headers.get(REVISION) !== FILES[path]) await cache.delete(request);
  }
  await self.clients.claim();
}

/** No offline copy (`trunk serve`'s build, or `sw=0`): remove the copy and this worker. */
async function retire() {
  retired = true;
  await caches.delete(CACHE);
  await self.clients.claim();
  await self.registration.unregister();
}

/** The request's file of the build (the folder itself is index.html), or null. */
function buildPath(request) {
  const url = new URL(request.url);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return null;
  const path = decodeURIComponent(url.pathname.slice(scope.pathname.length)) || 'index.html';
  return Object.hasOwn(FILES, path) ? path : null;
}

/** The kept response for `path`, if it is this build's. */
async function kept(path) {
  const response = await caches.match(new URL(path, scope), { cacheName: CACHE });
  return response?.headers.get(REVISION) === FILES[path] ? response : undefined;
}

/** The kept copy; else the network's, which is kept once its revision is checked. */
async function copyFirst(event, path) {
  const copy = outdated() ? undefined : await kept(path);
  if (copy) return copy;
  const response = await fetch(new URL(path, scope), { cache: 'no-cache' });
  if (response.ok && !outdated()) event.waitUntil(keep(path, response.clone()));
  return response;
}

/**
 * The network's, checked before it is answered: it names the build's other files, so a new
 * build must be known before the page asks for them. The copy when the network does not
 * answer, or answers with an error.
 */
async function networkFirst(event, path) {
  let response;
  try {
    response = await fetch(new URL(path, scope), { cache: 'no-cache' });
  } catch (offline) {
    const copy = await kept(path);
    if (copy) return copy;
    throw offline;
  }
  if (!response.ok) return (await kept(path)) ?? response;
  const body = await response.arrayBuffer();
  if (!outdated()) await keep(path, answer(body, response));
  // A new build's page: its files are asked for as soon as it is answered, so the new build's
  // worker should answer them (from the copy, for the files both builds share), not this one.
  // That worker cannot take over while this one still handles the page's request (a worker
  // with pending events is not replaced), so this waits until it is installed (tens of ms once
  // its script is fetched); it takes over once this answer is sent. Meanwhile, and if it is
  // slower than `ms`, this one passes everything to the network.
  if (outdated() && event.request.mode === 'navigate') await successorInstalled(3000);
  return answer(body, response);
}

/** Waits (at most `ms`) until a newer worker is installed: waiting, or active already. */
async function successorInstalled(ms) {
  const until = Date.now() + ms;
  while (self.registration.waiting === null && !superseded() && Date.now() < until) {
    await new Promise((done) => setTimeout(done, 20));
  }
}

/**
 * Keeps `response` as `path`'s copy if it is this build's revision. Another revision means the
 * host serves a newer build: from now on everything comes from the network until that build's
 * worker, fetched at once, takes over.
 */
async function keep(path, response) {
  const body = await response.arrayBuffer();
  if ((await revision(body)) !== FILES[path]) {
    stale = true;
    self.registration.update().catch(() => {});
    return;
  }
  // Hashing a big file takes a while: a newer build's worker may have come meanwhile, or the
  // page asked this one to retire, and the copy is no longer this worker's to fill.
  if (retired || outdated()) return;
  const copy = answer(body, response);
  copy.headers.set(REVISION, FILES[path]);
  const cache = await caches.open(CACHE);
  await cache.put(new URL(path, scope), copy);
}

/**
 * This worker's build is not the one to serve: the network serves another, or a newer build's
 * worker is installing, waiting or has taken over (this one may have been started afresh since
 * it saw the network's new build, for a page it answered then). It answers pages only once
 * active, so an installing or a waiting worker is always a newer build's.
 */
function outdated() {
  const { installing, waiting } = self.registration;
  return stale || installing !== null || waiting !== null || superseded();
}

/** Another worker (a newer build's) is the registration's active one. */
function superseded() {
  return self.serviceWorker !== undefined && self.registration.active !== self.serviceWorker;
}

/** A response with `body` (decoded) and `like`'s status and headers, bar those of the encoding. */
function answer(body, like) {
  const headers = new Headers(like.headers);
  for (const name of DROPPED) headers.delete(name);
  return new Response(body, { status: like.status, statusText: like.statusText, headers });
}

/** The start of the SHA-256 of `body`, in hex: a file's revision (as the manifest gives it). */
async function revision(body) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
