/* The caregiver's phone pages (orders/visit): check-in and check-out with the phone's time and
 * position, kept in a local queue when there is no network and sent to the API, with their
 * idempotency keys, when it returns. Plain script, no framework, no inline code (the CSP).
 *
 * The queue lives in localStorage ("yinling.visit.queue.v1"): [{key, kind, order, url, body}].
 * `key` is the idempotency key the server keeps: a record sent twice (the answer was lost, the
 * page was reloaded mid-upload) is one check-in. Records are sent in the order they were made;
 * a network failure stops the round (tried again when the phone is back online, and every 20 s);
 * a refusal (403/404/422) is shown and set aside, never retried for ever.
 */
(function () {
  "use strict";

  var app = document.querySelector("[data-visit-app]");
  if (!app) return;

  var QUEUE = "yinling.visit.queue.v1";
  var FAILED = "yinling.visit.failed.v1";
  var OFFLINE_SAVED = "已离线保存，联网后自动上传";
  var LABEL = { check_in: "签到", check_out: "签退" };
  var statusBox = app.querySelector("[data-visit-status]");

  // --- storage --------------------------------------------------------------------------------
  function load(name) {
    try {
      return JSON.parse(window.localStorage.getItem(name) || "[]");
    } catch (e) {
      return [];
    }
  }
  function save(name, list) {
    window.localStorage.setItem(name, JSON.stringify(list));
  }
  function enqueue(item) {
    var queue = load(QUEUE);
    if (!queue.some(function (i) { return i.key === item.key; })) queue.push(item);
    save(QUEUE, queue);
  }
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // --- what the worker sees -------------------------------------------------------------------------
  function say(text, kind) {
    if (!statusBox) return;
    statusBox.textContent = text;
    statusBox.className = "visit-status" + (kind ? " is-" + kind : "");
    statusBox.hidden = !text;
  }
  function showScreen(name) {
    app.querySelectorAll("[data-screen]").forEach(function (s) {
      s.hidden = s.getAttribute("data-screen") !== name;
    });
  }
  function errorText(res) {
    var data = res.data || {};
    return data.detail || "服务器未能处理（" + res.status + "），请稍后再试或联系社区";
  }

  // --- the phone's position ------------------------------------------------------------------------
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        function (p) {
          resolve({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) });
        },
        function () { resolve(null); },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- sending ----------------------------------------------------------------------------------------
  function send(item, fromQueue) {
    var body = Object.assign({}, item.body);
    if (fromQueue) {
      body.offline = true;
      body.device_sent_at = new Date().toISOString();
    }
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          return { status: r.status, ok: r.ok, data: data };
        });
      })
      .catch(function () { return { network: true }; });
  }

  // Record a check-in or check-out now: online, sent at once; offline (or the request fails on
  // the network), queued with the phone's time of the tap.
  function record(kind, url, extra) {
    say("正在获取手机位置……");
    return position().then(function (pos) {
      var body = Object.assign(
        {
          lat: pos ? pos.lat : null,
          lng: pos ? pos.lng : null,
          accuracy_m: pos ? pos.accuracy_m : null,
          device_at: new Date().toISOString(),
          idempotency_key: newKey(),
        },
        extra || {}
      );
      var item = { key: body.idempotency_key, kind: kind, order: app.getAttribute("data-order"), url: url, body: body };
      if (!navigator.onLine || load(QUEUE).length) {
        // offline, or earlier records still waiting: keep the order in which they were made
        enqueue(item);
        window.setTimeout(flush, 0);
        return { queued: true };
      }
      say("正在提交……");
      return send(item, false).then(function (res) {
        if (res.network || res.status >= 500) {
          enqueue(item);
          return { queued: true };
        }
        return res;
      });
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine || !load(QUEUE).length) return;
    flushing = true;
    var sent = 0;
    var refused = [];
    say("已联网，正在上传离线记录……", "offline");
    (function next() {
      var queue = load(QUEUE);
      if (!queue.length) {
        flushing = false;
        if (refused.length) say(refused.join("；"), "error");
        else say("离线记录已上传（" + sent + " 条），已标记为离线补传", "ok");
        app.setAttribute("data-flushed", String(sent));
        markCards();
        cacheDay();
        return;
      }
      var item = queue[0];
      send(item, true).then(function (res) {
        if (res.network || res.status >= 500) {
          flushing = false;
          say(OFFLINE_SAVED, "offline");
          return;
        }
        if (res.status === 401) {
          flushing = false;
          say("登录已过期，请重新登录；离线记录保存在手机上，登录后自动上传", "error");
          return;
        }
        save(QUEUE, load(QUEUE).filter(function (i) { return i.key !== item.key; }));
        if (res.ok) {
          sent += 1;
        } else {
          var failed = load(FAILED);
          failed.push({ item: item, detail: errorText(res) });
          save(FAILED, failed.slice(-20));
          refused.push(LABEL[item.kind] + "上传未成功：" + errorText(res));
        }
        next();
      });
    })();
  }

  // --- the service worker: the day's pages and their assets, for use offline ---------------------------
  function cacheDay() {
    if (!("serviceWorker" in navigator) || !navigator.serviceWorker.controller) return;
    var urls = [location.pathname + location.search];
    document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (el) {
      urls.push(el.getAttribute("href") || el.getAttribute("src"));
    });
    var keep = null;
    if (app.getAttribute("data-page") === "day") {
      keep = [];
      app.querySelectorAll("[data-visit-card] a.visit-card__main").forEach(function (a) {
        urls.push(a.getAttribute("href"));
        keep.push(a.getAttribute("href"));
      });
    }
    navigator.serviceWorker.controller.postMessage({ type: "cache", urls: urls, keep: keep });
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "cached") app.setAttribute("data-cached", "1");
    });
    navigator.serviceWorker
      .register(app.getAttribute("data-sw"), { scope: app.getAttribute("data-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function () {
        if (navigator.serviceWorker.controller) cacheDay();
        else navigator.serviceWorker.addEventListener("controllerchange", cacheDay, { once: true });
      })
      .catch(function () { /* no service worker (old phone, private mode): the pages still work online */ });
  }

  // --- the day page: what is waiting in the queue ----------------------------------------------------------
  function markCards() {
    var queue = load(QUEUE);
    app.querySelectorAll("[data-visit-card]").forEach(function (card) {
      var order = card.getAttribute("data-order");
      var mine = queue.filter(function (i) { return i.order === order; });
      var badge = card.querySelector("[data-local-state]");
      if (!badge) return;
      var out = mine.some(function (i) { return i.kind === "check_out"; });
      var inn = mine.some(function (i) { return i.kind === "check_in"; });
      badge.hidden = !(out || inn);
      badge.textContent = out ? "离线签退，待上传" : inn ? "离线签到，待上传" : "";
    });
  }

  // --- the visit page: one action a screen ------------------------------------------------------------------
  function localScreen() {
    var order = app.getAttribute("data-order");
    var mine = load(QUEUE).filter(function (i) { return i.order === order; });
    var status = app.getAttribute("data-status");
    if (mine.some(function (i) { return i.kind === "check_out"; })) return "done";
    if (mine.some(function (i) { return i.kind === "check_in"; }) && status === "accepted") return "check-out";
    return null;
  }

  var checkIn = app.querySelector("[data-action=check-in]");
  if (checkIn) {
    checkIn.addEventListener("click", function () {
      checkIn.disabled = true;
      record("check_in", app.getAttribute("data-check-in-url")).then(function (res) {
        if (res.queued) {
          showScreen("check-out");
          say(OFFLINE_SAVED, "offline");
        } else if (res.ok) {
          say("签到成功", "ok");
          window.location.reload();
        } else {
          say(errorText(res), "error");
        }
        checkIn.disabled = false;
      });
    });
  }

  var form = app.querySelector("[data-checkout-form]");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector("[data-form-error]");
      var outcomes = {};
      var missing = [];
      form.querySelectorAll("input[name=outcome]").forEach(function (box) {
        if (box.checked) outcomes[box.value] = true;
        else missing.push(box.value);
      });
      if (missing.length) {
        error.textContent = "签退前请先记录：" + missing.join("、");
        error.hidden = false;
        return;
      }
      error.hidden = true;
      var button = form.querySelector("[data-action=check-out]");
      button.disabled = true;
      var extra = { outcomes: outcomes, notes: form.querySelector("[name=notes]").value };
      record("check_out", app.getAttribute("data-check-out-url"), extra).then(function (res) {
        button.disabled = false;
        if (res.queued) {
          showScreen("done");
          say(OFFLINE_SAVED, "offline");
        } else if (res.ok) {
          say("签退成功", "ok");
          window.location.reload();
        } else {
          error.textContent = errorText(res);
          error.hidden = false;
          say("");
        }
      });
    });
  }

  // The stray check-in form: the position goes with it (a plain form post; no offline queue).
  var strayForm = app.querySelector("[data-stray-form]");
  if (strayForm) {
    strayForm.addEventListener("submit", function (event) {
      if (strayForm.getAttribute("data-located")) return;
      event.preventDefault();
      if (!navigator.onLine) {
        var error = strayForm.querySelector("[data-form-error]");
        error.textContent = "临时签到需要联网，请到有信号的地方再登记";
        error.hidden = false;
        return;
      }
      position().then(function (pos) {
        if (pos) {
          strayForm.elements.lat.value = pos.lat;
          strayForm.elements.lng.value = pos.lng;
          strayForm.elements.accuracy_m.value = pos.accuracy_m;
        }
        strayForm.elements.device_at.value = new Date().toISOString();
        strayForm.setAttribute("data-located", "1");
        strayForm.requestSubmit ? strayForm.requestSubmit() : strayForm.submit();
      });
    });
  }

  var screen = app.getAttribute("data-page") === "visit" ? localScreen() : null;
  if (screen) {
    showScreen(screen);
    say(OFFLINE_SAVED, "offline");
  } else if (load(QUEUE).length) {
    say(OFFLINE_SAVED, "offline");
  }
  markCards();
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () {
    if (load(QUEUE).length) say(OFFLINE_SAVED, "offline");
  });
  window.setInterval(flush, 20000);
  flush();
})();
