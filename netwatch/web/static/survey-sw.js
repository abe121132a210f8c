/* netwatch survey form: the service worker that lets the form open where there is no network.
 *
 * Testers go exactly where coverage is poor, so the form must open offline: the page, its
 * script and styles and the last list of nearby points are kept in a cache and served when
 * the network fails. Network first, so an online phone always gets the current page (with a
 * fresh CSRF token) and the cache follows it. Readings are never touched here: POSTs pass
 * through, and the page's own queue (localStorage) sends them when the network returns.
 */
'use strict';

const CACHE = 'netwatch-survey-v1';
const PAGE = '/survey';
const POINTS = '/api/v1/points';
const KEPT = [PAGE, '/static/survey.js', '/static/survey.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(KEPT.map((url) => new Request(url, { credentials: 'same-origin' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function keyOf(url) {
  /* One entry per path: the page under any query, the points list from any position. */
  if (url.pathname === PAGE || url.pathname === POINTS || KEPT.includes(url.pathname)) {
    return url.pathname;
  }
  return null;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const key = request.method === 'GET' && url.origin === self.location.origin ? keyOf(url) : null;
  if (key === null) return; // not ours: the browser fetches it as usual
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok && !response.redirected) {
        const cache = await caches.open(CACHE);
        await cache.put(key, response.clone());
      }
      return response;
    } catch (offline) {
      const kept = await caches.match(key);
      if (kept) return kept;
      throw offline;
    }
  })());
});
