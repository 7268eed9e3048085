/* Service worker: keeps the forms' app shell (styles, scripts, fill pages, definitions) on the
   phone so a form can be opened and filled without signal. Submissions never go through here:
   the page's outbox (forms.js) sends them and keeps them until the server confirms. */
var CACHE = "forms-shell-v1";
var SHELL = ["/static/app.css", "/static/vendor/htmx.min.js", "/static/forms/expr.js", "/static/forms/forms.js", "/static/forms/forms.css"];

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (c) { c.put(request, copy); });
    }
    return response;
  }).catch(function () {
    // Offline: this version of the file, else any version kept (pages link "?v=<digest>").
    return caches.match(request).then(function (hit) {
      return hit || caches.match(request, { ignoreSearch: true });
    }).then(function (hit) { return hit || Response.error(); });
  });
}

function staleWhileRevalidate(request) {
  return caches.match(request).then(function (hit) {
    var fresh = networkFirst(request);
    return hit || fresh;
  });
}

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) { ev.respondWith(staleWhileRevalidate(req)); return; }
  // Only the shell: the forms list, blank fill pages and definitions (never a sent form).
  if (/^\/forms\/?$/.test(url.pathname) || /^\/forms\/[^/]+\/fill$/.test(url.pathname) ||
      /^\/api\/forms\/[^/]+$/.test(url.pathname)) {
    if (req.headers.get("HX-Request")) return;
    ev.respondWith(networkFirst(req));
  }
});
