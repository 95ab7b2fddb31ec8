/* The grid worker's visit form on a phone (/visits/new/?elder=…), kept working without network
 * the way the caregiver's phone pages are (orders/static/orders/visit.js, the same service
 * worker orders/static/orders/sw.js registered with ?exact=1 for /visits/new/).
 *
 * On submit the form gets a client_key (the server's idempotency key: a replay of the same key is
 * the same visit). Online, the form is posted with fetch; offline, or when the post fails on the
 * network, the form's fields are kept in localStorage ("yinling.visitform.queue.v1":
 * [{key, url, elder, name, fields}]) with visited_at set to the phone's time of the tap (unless
 * the worker changed it), and "已离线保存，联网后自动上传" is shown. The queue is sent when the
 * phone is back online, on every page load and every 20 s; a refusal (4xx) is shown and set
 * aside, never retried for ever. Plain script, no inline code (the CSP).
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-visit-form]");
  var QUEUE = "yinling.visitform.queue.v1";
  var FAILED = "yinling.visitform.failed.v1";
  var OFFLINE_SAVED = "已离线保存，联网后自动上传";
  var statusBox = document.querySelector("[data-visit-status]");

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
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function say(text, kind) {
    if (!statusBox) return;
    statusBox.textContent = text;
    statusBox.className = "alert alert--" + (kind || "warn");
    statusBox.hidden = !text;
    statusBox.style.display = text ? "" : "none";
  }
  function localNow() {
    var d = new Date();
    function p(n) { return ("0" + n).slice(-2); }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: body,
    })
      .then(function (r) { return { status: r.status, ok: r.ok, url: r.url, redirected: r.redirected }; })
      .catch(function () { return { network: true }; });
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine || !load(QUEUE).length) return;
    flushing = true;
    var sent = 0;
    var refused = [];
    say("已联网，正在上传离线探访记录……");
    (function next() {
      var queue = load(QUEUE);
      if (!queue.length) {
        flushing = false;
        if (refused.length) say(refused.join("；"), "danger");
        else say("离线探访记录已上传（" + sent + " 条）", "success");
        document.documentElement.setAttribute("data-visits-flushed", String(sent));
        return;
      }
      var item = queue[0];
      post(item.url, item.fields.concat([["offline", "1"]])).then(function (res) {
        if (res.network || res.status >= 500) {
          flushing = false;
          say(OFFLINE_SAVED);
          return;
        }
        var loggedOut = res.redirected && res.url && res.url.indexOf("/login") !== -1;
        if (res.status === 401 || loggedOut) {
          flushing = false;
          say("登录已过期，请重新登录；离线探访记录保存在手机上，登录后自动上传", "danger");
          return;
        }
        save(QUEUE, load(QUEUE).filter(function (i) { return i.key !== item.key; }));
        if (res.ok) {
          sent += 1;
        } else {
          var failed = load(FAILED);
          failed.push({ item: item, status: res.status });
          save(FAILED, failed.slice(-20));
          refused.push((item.name || "") + "的探访记录上传未成功（" + res.status + "），请打开表单重新填写");
        }
        next();
      });
    })();
  }

  if (form) {
    var at = form.querySelector("[name=visited_at]");
    var atTouched = false;
    if (at) at.addEventListener("input", function () { atTouched = true; });
    var keyField = form.querySelector("[data-client-key]");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!keyField.value) keyField.value = newKey();
      if (at && !atTouched) at.value = localNow(); // the phone's time of the tap
      var button = form.querySelector("[type=submit]");
      var fields = [];
      new FormData(form).forEach(function (value, name) {
        // the token goes in the header at sending time (a stale one would refuse the replay)
        if (name !== "csrfmiddlewaretoken") fields.push([name, String(value)]);
      });
      var item = {
        key: keyField.value,
        url: location.pathname + location.search,
        elder: form.querySelector("[name=elder]").value,
        name: form.getAttribute("data-elder-name"),
        fields: fields,
      };
      function keep() {
        var queue = load(QUEUE);
        if (!queue.some(function (i) { return i.key === item.key; })) queue.push(item);
        save(QUEUE, queue);
        // the key stays: a second tap on the same form is the same visit, not a second one
        say(OFFLINE_SAVED);
        form.setAttribute("data-queued", String(queue.length));
        if (button) button.disabled = false;
      }
      if (!navigator.onLine) return keep();
      if (button) button.disabled = true;
      say("正在提交……");
      post(item.url, fields).then(function (res) {
        if (res.network || res.status >= 500) return keep();
        if (res.ok && res.redirected) {
          window.location.href = res.url; // the visit's page
          return;
        }
        // refused (the form's errors): the same post by the browser shows them, with the same
        // client_key, so it cannot become a second visit
        form.submit();
      });
    });
  }

  // The service worker keeps this form page (the elders the worker opened) and its assets.
  if (form && "serviceWorker" in navigator) {
    var cacheShell = function () {
      if (!navigator.serviceWorker.controller) return;
      var urls = [location.pathname + location.search];
      document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (el) {
        urls.push(el.getAttribute("href") || el.getAttribute("src"));
      });
      navigator.serviceWorker.controller.postMessage({ type: "cache", urls: urls, keep: null });
    };
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "cached") form.setAttribute("data-cached", "1");
    });
    navigator.serviceWorker
      .register(form.getAttribute("data-sw"), { scope: form.getAttribute("data-scope") })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function () {
        if (navigator.serviceWorker.controller) cacheShell();
        else navigator.serviceWorker.addEventListener("controllerchange", cacheShell, { once: true });
      })
      .catch(function () { /* no service worker: the form still works online */ });
  }

  if (load(QUEUE).length) say(OFFLINE_SAVED);
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () {
    if (load(QUEUE).length) say(OFFLINE_SAVED);
  });
  window.setInterval(flush, 20000);
  flush();
})();
