/* Service worker: keeps the forms' app shell (styles, scripts, fill pages, definitions) on the
   phone so a form can be opened and filled without signal. Submissions never go through here:
   the page's outbox (forms.js) sends them and keeps them until the server confirms. */
var CACHE = "forms-shell-v1";
var SHELL = ["/static/app.css", "/static/vendor/htmx.min.js", "/static/focus.js", "/static/forms/expr.js", "/static/forms/forms.js", "/static/forms/forms.css"];

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

/* Only the shell: the forms list, blank fill pages, definitions and static files (never a sent
   form, a draft from the server or another page). */
function isShell(url) {
  return url.origin === self.location.origin && (url.pathname.indexOf("/static/") === 0 ||
    /^\/forms\/?$/.test(url.pathname) || /^\/forms\/[^/]+\/fill$/.test(url.pathname) ||
    /^\/api\/forms\/[^/]+$/.test(url.pathname));
}

function keep(request, response) {
  // A redirect (to sign-in) or an error page must not stand in for the page offline.
  if (!response.ok || response.redirected) return Promise.resolve();
  return caches.open(CACHE).then(function (c) { return c.put(request, response); });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    keep(request, response.clone());
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
  if (!isShell(url)) return;
  if (url.pathname.indexOf("/static/") === 0) { ev.respondWith(staleWhileRevalidate(req)); return; }
  if (req.headers.get("HX-Request")) return;
  ev.respondWith(networkFirst(req));
});

/* The page that installed this worker loaded before it, so nothing of that page went through
   here: it sends the addresses it needs without signal ({keep: [...]}) and they are fetched and
   kept now, in the same session. */
self.addEventListener("message", function (ev) {
  var data = ev.data || {};
  if (!Array.isArray(data.keep)) return;
  ev.waitUntil(Promise.all(data.keep.map(function (address) {
    var url = new URL(address, self.location.origin);
    if (!isShell(url)) return null;
    return fetch(url.href, { credentials: "same-origin" })
      .then(function (response) { return keep(url.href, response); })
      .catch(function () {});
  })));
});
