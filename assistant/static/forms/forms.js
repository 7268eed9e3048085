/* Forms on a phone with poor signal: an outbox of submissions kept in localStorage until
   the server confirms them (201/200), retried with backoff; page-by-page navigation that
   keeps working without signal; storage cleared on sign-out. No dependencies. */
(function () {
  "use strict";
  var OUTBOX = "forms.outbox";
  var DRAFT = "forms.draft.";
  var timer = null;
  var inflight = {};

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function store(items) { localStorage.setItem(OUTBOX, JSON.stringify(items)); render(); }

  /* ---- the outbox ---- */
  function enqueue(item) {
    var items = load().filter(function (i) { return i.instance_id !== item.instance_id; });
    items.push(item);
    store(items);
  }
  function backoff(attempts) { return Math.min(60000, 1000 * Math.pow(2, attempts)); }

  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    var items = load();
    var now = Date.now();
    items.forEach(function (item) {
      if (item.state !== "waiting" || inflight[item.instance_id] || (item.next || 0) > now) return;
      send(item);
    });
    schedule();
  }
  function schedule() {
    var waiting = load().filter(function (i) { return i.state === "waiting"; });
    if (!waiting.length) return;
    var soonest = Math.min.apply(null, waiting.map(function (i) { return i.next || 0; }));
    timer = setTimeout(flush, Math.max(500, soonest - Date.now()));
  }
  function update(id, change) {
    var items = load().map(function (i) {
      return i.instance_id === id ? Object.assign(i, change) : i;
    });
    store(items);
  }
  function send(item) {
    inflight[item.instance_id] = true;
    fetch("/api/forms/" + encodeURIComponent(item.form_id) + "/submissions", {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",  // signed out: a redirect to /login must not look like success
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(item.payload)
    }).then(function (r) {
      delete inflight[item.instance_id];
      return r.json().catch(function () { return {}; }).then(function (body) {
        if ((r.status === 201 || r.status === 200) && body.instance_id === item.instance_id) {
          // The phone's copy goes first: the lists are drawn again as the outbox changes.
          localStorage.removeItem(DRAFT + item.instance_id);
          store(load().filter(function (i) { return i.instance_id !== item.instance_id; }));
          sent(item, body);
        } else if (r.status === 422) {
          update(item.instance_id, { state: "invalid", errors: body.errors || {} });
          showErrors(item.instance_id, body.errors || {});
        } else if (r.status === 409) {
          update(item.instance_id, { state: "conflict" });
        } else {
          retry(item);
        }
      });
    }, function () { delete inflight[item.instance_id]; retry(item); });
  }
  function retry(item) {
    var attempts = (item.attempts || 0) + 1;
    update(item.instance_id, { state: "waiting", attempts: attempts, next: Date.now() + backoff(attempts) });
    status("waiting");
    schedule();
  }
  function sent(item, body) {
    var form = document.getElementById("fill-form");
    if (form && form.elements.instance_id.value === item.instance_id && body.url) {
      window.location.assign(body.url + "?sent=1");
    }
  }

  /* ---- the lists on the forms page ---- */
  /* A time as people here read it: the page's language (its CLDR locale from the server, then
     the page's lang, then New Zealand English where the browser has no data) in New Zealand
     time, whatever the phone's own settings. Numeric and short, as the server writes the
     drafts beside it (no English month names on a Samoan screen). */
  function when(ms) {
    var holder = document.querySelector("[data-date-locale]");
    var tags = [holder && holder.dataset.dateLocale, document.documentElement.lang, "en-NZ"];
    var options = { timeZone: "Pacific/Auckland", dateStyle: "short", timeStyle: "short" };
    var date = new Date(ms);
    try {
      return new Intl.DateTimeFormat(tags.filter(Boolean), options).format(date);
    } catch (e) {
      return new Intl.DateTimeFormat("en-NZ", options).format(date);
    }
  }
  /* Forms the server lists as sent: a copy of one still on the phone is stale. */
  function forgetSent() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-sent-instance]"), function (el) {
      localStorage.removeItem(DRAFT + el.dataset.sentInstance);
    });
  }
  function localDrafts() {
    return Object.keys(localStorage).filter(function (k) { return k.indexOf(DRAFT) === 0; })
      .map(function (k) {
        try { return Object.assign(JSON.parse(localStorage.getItem(k)), { id: k.slice(DRAFT.length) }); }
        catch (e) { return null; }
      })
      .filter(function (d) { return d && d.form_id; });
  }
  function renderLocalDrafts() {
    var box = document.getElementById("local-drafts");
    if (!box) return;
    var queued = {};
    load().forEach(function (i) { queued[i.instance_id] = 1; });
    var drafts = localDrafts().filter(function (d) { return !queued[d.id]; });
    var list = box.querySelector("ul");
    list.textContent = "";
    drafts.forEach(function (d) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/forms/" + encodeURIComponent(d.form_id) + "/fill#resume=" + encodeURIComponent(d.id);
      a.textContent = (d.title || d.form_id) + " (" + when(d.saved) + ")";
      li.appendChild(a);
      list.appendChild(li);
    });
    box.hidden = drafts.length === 0;
  }
  function render() {
    renderLocalDrafts();
    var box = document.getElementById("outbox");
    if (!box) return;
    var items = load();
    var list = box.querySelector("ul");
    list.textContent = "";
    items.forEach(function (i) {
      var li = document.createElement("li");
      var label = box.dataset[i.state === "invalid" ? "invalid" : i.state === "conflict" ? "conflict" : "waiting"];
      li.textContent = i.title + " (" + when(i.saved) + "): " + label;
      li.className = "outbox-" + (i.state || "waiting");
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }

  /* ---- the fill page ---- */
  function fillForm() { return document.getElementById("fill-form"); }

  function status(kind) {
    var el = document.getElementById("send-status");
    if (!el) return;
    el.textContent = el.dataset[kind] || "";
    el.hidden = !el.textContent;
  }

  function collect(form) {
    var answers = {};
    var skip = { csrf_token: 1, instance_id: 1, page: 1, shown: 1, form_lang: 1, action: 1 };
    function put(name, value, multiple) {
      var parts = name.split(".");
      var target = answers;
      if (parts.length === 3) {
        var rows = answers[parts[0]] = answers[parts[0]] || [];
        var idx = parseInt(parts[1], 10);
        while (rows.length <= idx) rows.push({});
        target = rows[idx];
        name = parts[2];
      }
      if (multiple) {
        target[name] = target[name] || [];
        if (value !== null) target[name].push(value);
      } else if (value !== null || !(name in target)) {
        target[name] = value;
      }
    }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || skip[el.name] || el.closest("template")) return;
      if (/\.rows$/.test(el.name)) {
        var n = parseInt(el.value, 10) || 0;
        var key = el.name.slice(0, -5);
        answers[key] = answers[key] || [];
        while (answers[key].length < n) answers[key].push({});
        return;
      }
      if (el.type === "checkbox") put(el.name, el.checked ? el.value : null, true);
      else if (el.type === "radio") put(el.name, el.checked ? el.value : null, false);
      else if (el.tagName !== "BUTTON") put(el.name, el.value === "" ? null : el.value, false);
    });
    return answers;
  }

  function showErrors(instanceId, errors) {
    var form = fillForm();
    if (!form || form.elements.instance_id.value !== instanceId) return;
    status("invalid");
    var first = null;
    Object.keys(errors).forEach(function (key) {
      var el = document.getElementById("err-" + key);
      if (el) { el.textContent = errors[key]; el.hidden = false; first = first || el; }
    });
    if (first) {
      var section = first.closest(".form-page");
      if (section) show(form, parseInt(section.dataset.page, 10));
    }
  }

  /* Skip logic without signal, with the server's meaning: the page carries the form's
     expressions parsed by the server (#form-logic) and expr.js works out what applies, as the
     server does (calculations, and answers to skipped questions counting as empty, included).
     Where it cannot (an old browser), the page stays as the server drew it. */
  var plans = new WeakMap();
  function logicOf(form) {
    if (!plans.has(form)) {
      var el = form.querySelector("#form-logic"), plan = null;
      try { plan = window.FormExpr && el ? JSON.parse(el.textContent) : null; } catch (e) { plan = null; }
      plans.set(form, plan && plan.format === window.FormExpr.FORMAT ? plan : null);
    }
    return plans.get(form);
  }
  function refresh(form) {
    var plan = logicOf(form), state = null;
    if (plan) {
      try { state = window.FormExpr.state(plan, collect(form)); } catch (e) { state = null; }
    }
    if (state) {
      Array.prototype.forEach.call(pages(form), function (el, i) {
        el.dataset.skip = state.pages[plan.pages[i].name] ? "" : "1";
      });
      Array.prototype.forEach.call(form.querySelectorAll('[id^="q-"]'), function (el) {
        el.hidden = !state.relevant(el.id.slice(2));
      });
    }
    noteShown(form);
    buttons(form, current(form));
  }
  /* Tell the server which questions are on show, so it stops only for ones shown by no one. */
  function noteShown(form) {
    var input = form.elements.shown;
    if (!input) return;
    var paths = [];
    Array.prototype.forEach.call(form.querySelectorAll('[id^="q-"]'), function (el) {
      for (var n = el; n && n !== form; n = n.parentElement) {
        if (n.hidden && !n.classList.contains("form-page")) return;
      }
      paths.push(el.id.slice(2));
    });
    input.value = paths.join(" ");
  }
  function pages(form) { return form.querySelectorAll(".form-page"); }
  function current(form) { return parseInt(form.elements.page.value, 10) || 0; }
  function step(form, from, dir) {
    var all = pages(form);
    for (var i = from + dir; i >= 0 && i < all.length; i += dir) {
      if (!all[i].dataset.skip) return i;
    }
    return from;
  }
  function buttons(form, page) {
    var last = step(form, page, 1) === page;
    form.querySelector('[value="back"]').hidden = page === 0;
    form.querySelector('[value="next"]').hidden = last;
    form.querySelector('[value="submit"]').hidden = !last;
  }
  function show(form, index) {
    Array.prototype.forEach.call(pages(form), function (p, i) { p.hidden = i !== index; });
    form.elements.page.value = index;
    if (/[?&]page=/.test(window.location.search)) {
      // The address names the page on screen.
      var url = new URL(window.location.href);
      url.searchParams.set("page", index);
      window.history.replaceState(window.history.state, "", url);
    }
    var progress = form.querySelector("[data-progress]");
    if (progress) progress.textContent = progress.dataset.progress.replace("__n__", index + 1);
    buttons(form, index);
    window.scrollTo(0, 0);
  }
  function saveLocal(form) {
    localStorage.setItem(DRAFT + form.elements.instance_id.value, JSON.stringify({
      form_id: form.dataset.formId, title: form.dataset.title, page: current(form),
      answers: collect(form), saved: Date.now()
    }));
  }
  function setValue(form, name, value) {
    Array.prototype.forEach.call(form.querySelectorAll('[name="' + name + '"]'), function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = Array.isArray(value) ? value.indexOf(el.value) >= 0 : el.value === value;
      } else {
        el.value = value === null || value === undefined ? "" : value;
      }
    });
  }
  /* A form started without signal, reopened from the phone's cache: put the answers back. */
  function restore(form, id) {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(DRAFT + id)); } catch (e) { saved = null; }
    if (!saved || saved.form_id !== form.dataset.formId) return;
    form.elements.instance_id.value = id;
    Object.keys(saved.answers || {}).forEach(function (name) {
      var value = saved.answers[name];
      var box = form.querySelector('[data-repeat="' + name + '"]');
      if (box && Array.isArray(value)) {
        var count = box.querySelector('input[name="' + name + '.rows"]');
        value.forEach(function (row, i) {
          while ((parseInt(count.value, 10) || 0) <= i) addRow(form, name);
          Object.keys(row).forEach(function (child) {
            setValue(form, name + "." + i + "." + child, row[child]);
          });
        });
      } else {
        setValue(form, name, value);
      }
    });
    refresh(form);
    show(form, saved.page || 0);
  }

  function submitOffline(form) {
    var answers = collect(form);
    var item = {
      instance_id: form.elements.instance_id.value,
      form_id: form.dataset.formId,
      title: form.dataset.title,
      saved: Date.now(),
      state: "waiting",
      attempts: 0,
      next: 0,
      payload: {
        instance_id: form.elements.instance_id.value,
        form_version: form.dataset.version,
        lang: form.elements.form_lang.value,
        answers: answers
      }
    };
    enqueue(item);
    saveLocal(form);
    status(navigator.onLine === false ? "waiting" : "sending");
    flush();
  }

  function setupFill() {
    var form = fillForm();
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var resume = /^#resume=([0-9a-f-]{36})$/.exec(window.location.hash);
    if (form.dataset.new === "1" && window.crypto && crypto.randomUUID) {
      // A blank form may come from the phone's cache: always give it a fresh instance id.
      form.elements.instance_id.value = crypto.randomUUID();
    }
    refresh(form);
    if (form.dataset.new === "1" && resume) restore(form, resume[1]);
    form.addEventListener("change", function () { refresh(form); });
    form.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[name=action]");
      if (!btn) return;
      form.dataset.lastAction = btn.value;
      if (btn.value === "submit") {
        // Sent through the outbox (online or not), so nothing is lost or sent twice.
        ev.preventDefault();
        ev.stopPropagation();
        submitOffline(form);
      } else if (navigator.onLine === false) {
        ev.preventDefault();
        ev.stopPropagation();
        offlineStep(form, btn);
      }
    }, true);
  }
  function offlineStep(form, btn) {
    var action = btn.value;
    var page = current(form);
    if (action === "next") show(form, step(form, page, 1));
    else if (action === "back") show(form, step(form, page, -1));
    else if (action.indexOf("add:") === 0) addRow(form, action.slice(4));
    saveLocal(form);
    status("offline");
  }
  function addRow(form, name) {
    var box = form.querySelector('[data-repeat="' + name + '"]');
    if (!box) return;
    var count = box.querySelector('input[name="' + name + '.rows"]');
    var n = parseInt(count.value, 10) || 0;
    if (n >= parseInt(box.dataset.max, 10)) return;
    var html = box.querySelector("template").innerHTML.split("__i__").join(String(n));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    var legend = row.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.trim() + " " + (n + 1);
    box.querySelector(".rows").appendChild(row);
    count.value = n + 1;
    refresh(form);
  }

  document.addEventListener("htmx:sendError", function (ev) {
    // The page could not reach the server: carry on here, and keep the answers on the phone.
    var form = fillForm();
    if (!form || ev.target !== form) return;
    var action = form.dataset.lastAction || "next";
    offlineStep(form, { value: action });
  });
  document.addEventListener("htmx:afterSwap", function () {
    setupFill();
    // A new page or errors: start reading from the top, where the errors or the title are.
    var form = fillForm();
    if (!form) return;
    // The server has every answer now (it saved the draft): the phone's copy can go.
    localStorage.removeItem(DRAFT + form.elements.instance_id.value);
    var target = form.querySelector(".error-summary") || form.querySelector(".added-summary") ||
      form.querySelector('.form-page:not([hidden]) h2');
    if (target) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
    window.scrollTo(0, 0);
  });

  /* ---- signing out leaves nothing behind on a shared phone ---- */
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches || !form.matches('form[action="/logout"]')) return;
    var pending = load().length;
    var words = document.querySelector("[data-logout-confirm]");
    if (pending && words && !window.confirm(words.dataset.logoutConfirm)) {
      ev.preventDefault();
      return;
    }
    Object.keys(localStorage).forEach(function (k) { if (k.indexOf("forms.") === 0) localStorage.removeItem(k); });
    if (window.caches) caches.keys().then(function (keys) { keys.forEach(function (k) { caches.delete(k); }); });
  }, true);

  /* ---- without signal: what this page needs, kept on the phone ---- */
  /* The forms list, the blank form of each tile (or of this form) with its definition, and this
     page's styles and scripts. Asked of the service worker once it is running: on a first visit
     it is installed after this page loaded, so nothing of the page went through it, and a fetch
     from here would not either. */
  function offlineAddresses(controlled) {
    var urls = ["/forms"];
    Array.prototype.forEach.call(document.querySelectorAll("a[data-form-def]"), function (a) {
      urls.push(a.getAttribute("href"), a.dataset.formDef);
    });
    var form = fillForm();
    if (form) {
      var id = encodeURIComponent(form.dataset.formId);
      urls.push("/forms/" + id + "/fill", "/api/forms/" + id);
    }
    if (controlled) {
      // This page and its files came through the worker, which kept them.
      var here = window.location.pathname + window.location.search;
      return urls.filter(function (u) { return u !== here; });
    }
    Array.prototype.forEach.call(document.querySelectorAll('link[rel="stylesheet"][href], script[src]'), function (el) {
      urls.push(el.getAttribute("href") || el.getAttribute("src"));
    });
    return urls;
  }
  function keepForOffline() {
    if (navigator.onLine === false) return;
    // Read now: a worker installed by this visit takes the page over later.
    var controlled = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({ keep: offlineAddresses(controlled) });
    }).catch(function () {});
  }

  window.addEventListener("online", flush);
  document.addEventListener("DOMContentLoaded", function () {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
      keepForOffline();
    }
    setupFill();
    forgetSent();
    render();
    var again = document.querySelector("[data-send-now]");
    if (again) again.addEventListener("click", function () {
      store(load().map(function (i) {
        return Object.assign(i, { next: 0, state: i.state === "conflict" ? i.state : "waiting" });
      }));
      flush();
    });
    flush();
  });
})();
