/* The service worker of the caregiver's phone pages, scope /orders/my/ (served by
 * orders.views_visit.service_worker), and of the grid worker's visit form, scope /visits/new/
 * (visits.views.service_worker, registered with ?exact=1). It keeps the day's pages and their assets so the pages open
 * with no network; the records themselves are queued by visit.js, not here.
 *
 * - Pages under /orders/my/: network first; a good answer is kept (except one marked no-store:
 *   the visit page that shows the elder's full phone), and without network the kept copy is shown.
 * - /static/: the same (network first, the kept copy without network).
 * - Everything else (the API, other pages) goes to the network untouched.
 * - A "cache" message from a page fetches and keeps the listed URLs (the day's visit pages are
 *   asked with X-Visit-Precache: 1, so the server renders them without revealing a phone) and,
 *   with `keep`, forgets the visit pages of other days.
 */
"use strict";

var CACHE = "yinling-visit-v1";
var SCOPE = new URL(self.registration.scope).pathname; // "/orders/my/" or "/visits/new/"
// Registered with ?exact=1 (the visit form, one page per elder): without network a page is shown
// only from its own kept copy, never another elder's form or the day page.
var EXACT = new URL(self.location.href).searchParams.get("exact") === "1";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("yinling-visit-") === 0 && n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keepable(response) {
  return response && response.ok && !response.redirected && (response.headers.get("Cache-Control") || "").indexOf("no-store") === -1;
}

function isVisitPage(path) {
  return path.indexOf(SCOPE) === 0 && /^\d+\/$/.test(path.slice(SCOPE.length));
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  var source = event.source;
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // One at a time: a phone on a weak network, and a small server, are not flooded.
      var fetches = data.urls.reduce(function (done, url) {
        var u = new URL(url, self.location.origin);
        if (u.origin !== self.location.origin) return done;
        var headers = u.pathname.indexOf(SCOPE) === 0 ? { "X-Visit-Precache": "1" } : {};
        return done.then(function () {
          return fetch(u.href, { credentials: "same-origin", headers: headers })
            .then(function (response) { if (keepable(response)) return cache.put(u.href, response); })
            .catch(function () {});
        });
      }, Promise.resolve());
      var prune = Promise.resolve();
      if (Array.isArray(data.keep)) {
        var keep = data.keep.map(function (k) { return new URL(k, self.location.origin).pathname; });
        prune = cache.keys().then(function (requests) {
          return Promise.all(requests.map(function (request) {
            var path = new URL(request.url).pathname;
            if (isVisitPage(path) && keep.indexOf(path) === -1) return cache.delete(request);
          }));
        });
      }
      return Promise.all([fetches, prune]).then(function () {
        if (source) source.postMessage({ type: "cached" });
      });
    })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" && url.pathname.indexOf(SCOPE) === 0;
  if (!page && url.pathname.indexOf("/static/") !== 0) return;
  event.respondWith(
    fetch(request)
      .then(function (response) {
        if (keepable(response)) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(url.href, copy); });
        }
        return response;
      })
      .catch(function () {
        // Vary: Cookie / Accept-Language on Django's answers must not hide the kept copy.
        var loose = { ignoreVary: true };
        return caches.open(CACHE).then(function (cache) {
          return cache.match(url.href, loose).then(function (hit) {
            if (hit || !page || EXACT) return hit || Response.error();
            return cache.match(url.href, { ignoreVary: true, ignoreSearch: true }).then(function (same) {
              return same || cache.match(self.location.origin + SCOPE, loose);
            }).then(function (day) { return day || Response.error(); });
          });
        });
      })
  );
});
