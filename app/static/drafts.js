// Nothing typed is lost (app/drafts). A form holding a draft token saves what is typed to the server a moment after
// each change, and puts back what was saved before; the form's own submit is untouched, so without script the form
// still works (and a form posted after the session ended is still kept by the server). Two minutes (the server's
// SESSION_IDLE_WARNING_SECONDS) before an idle sign-out a dialog offers "Stay signed in" or "Sign out". Saving is not
// activity: only "Stay signed in" (or any page the user opens) keeps the session.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var urls = script.dataset;
  var SAVE_DELAY_MS = 1000;
  var SKIPPED_TYPES = ["hidden", "password", "file", "submit", "button", "reset", "image"];
  var drafts = [];

  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) { answer.httpStatus = response.status; return answer; });
    });
  }

  // --- the form's fields ------------------------------------------------------------------------------------------

  function isUsersField(element) {
    return element.name && !element.disabled && SKIPPED_TYPES.indexOf((element.type || "").toLowerCase()) < 0;
  }

  function fieldsOf(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!isUsersField(element)) { return; }
      var values;
      if (element.type === "checkbox" || element.type === "radio") {
        if (!element.checked) { return; }
        values = [element.value];
      } else if (element.tagName === "SELECT" && element.multiple) {
        values = Array.prototype.map.call(element.selectedOptions, function (option) { return option.value; });
      } else {
        values = [element.value];
      }
      values.forEach(function (value) {
        var name = element.name;
        if (!Object.prototype.hasOwnProperty.call(fields, name)) { fields[name] = value; }
        else if (Array.isArray(fields[name])) { fields[name].push(value); }
        else { fields[name] = [fields[name], value]; }
      });
    });
    return fields;
  }

  function putBack(form, fields) {
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!isUsersField(element)) { return; }
      var known = Object.prototype.hasOwnProperty.call(fields, element.name);
      var values = known ? [].concat(fields[element.name]) : [];
      var changed = false;
      if (element.type === "checkbox" || element.type === "radio") {
        var on = values.indexOf(element.value) >= 0;
        changed = element.checked !== on;
        element.checked = on;
      } else if (!known) {
        return;
      } else if (element.tagName === "SELECT" && element.multiple) {
        Array.prototype.forEach.call(element.options, function (option) {
          option.selected = values.indexOf(option.value) >= 0;
        });
        changed = true;
      } else if (element.value !== values[0]) {
        element.value = values[0];
        changed = true;
      }
      if (changed) { element.dispatchEvent(new Event("change", {bubbles: true})); }
    });
  }

  // --- one form's draft -------------------------------------------------------------------------------------------

  function Draft(form, input) {
    this.form = form;
    this.token = input.value;
    this.page = input.getAttribute("data-draft-page");
    this.timer = null;
    this.done = false;
    this.shown = JSON.stringify(fieldsOf(form));  // what the page showed: nothing new to keep yet
    this.status = document.createElement("p");
    this.status.className = "draft-status help-block";
    form.appendChild(this.status);
    var saved = input.getAttribute("data-draft-saved");
    if (saved) { this.restore(JSON.parse(saved)); }
    this.lastSaved = JSON.stringify(fieldsOf(form));
    var self = this;
    form.addEventListener("input", function () { self.later(); });
    form.addEventListener("change", function () { self.later(); });
    form.addEventListener("submit", function () { clearTimeout(self.timer); self.done = true; });
  }

  Draft.prototype.restore = function (saved) {
    putBack(this.form, saved.fields || {});
    var details = this.form.closest("details");
    if (details) { details.open = true; }
    var notice = document.createElement("div");
    notice.className = "alert alert-info draft-notice";
    notice.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = "What you typed before (saved " + saved.saved_at + ") is back in this form. Check it, then " +
      "send it when you are ready.";
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "btn btn-default btn-sm";
    clear.textContent = "Clear the form";
    var self = this;
    clear.addEventListener("click", function () { self.clear(notice); });
    notice.appendChild(text);
    notice.appendChild(clear);
    this.form.insertBefore(notice, this.form.firstChild);
  };

  Draft.prototype.clear = function (notice) {
    clearTimeout(this.timer);
    this.form.reset();
    Array.prototype.forEach.call(this.form.elements, function (element) {
      if (isUsersField(element)) { element.dispatchEvent(new Event("change", {bubbles: true})); }
    });
    clearTimeout(this.timer);
    this.lastSaved = JSON.stringify(fieldsOf(this.form));
    postJson(urls.clearUrl, {token: this.token}).catch(function () { return null; });
    notice.parentNode.removeChild(notice);
    this.status.textContent = "The form is cleared.";
    var first = Array.prototype.find.call(this.form.elements, isUsersField);
    if (first) { first.focus(); }
  };

  Draft.prototype.later = function () {
    if (this.done) { return; }
    clearTimeout(this.timer);
    this.timer = setTimeout(this.save.bind(this), SAVE_DELAY_MS);
  };

  Draft.prototype.save = function () {
    clearTimeout(this.timer);
    this.timer = null;
    var fields = fieldsOf(this.form);
    var json = JSON.stringify(fields);
    if (this.done || json === this.lastSaved) { return Promise.resolve(); }
    var self = this;
    return postJson(urls.saveUrl, {token: this.token, fields: fields}).then(function (answer) {
      if (answer.saved) {
        self.lastSaved = json;
        self.status.textContent = answer.saved_at ? "Draft saved " + answer.saved_at + "." : "Draft saved.";
      }
      if (answer.httpStatus === 401) { signedOut(); }
    }).catch(function () { return null; });
  };

  function saveAll() {
    return Promise.all(drafts.map(function (draft) { return draft.save(); }));
  }

  // --- the idle warning ---------------------------------------------------------------------------------------------

  var dialog = null;
  var timer = null;
  var ticker = null;
  var focusedBefore = null;
  var ending = false;

  function askStatus() {
    return fetch(urls.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .catch(function () { return null; });  // not a page of a signed-in session (the second step, say)
  }

  function arm(status) {
    clearTimeout(timer);
    if (!status) { return; }
    if (!status.signed_in) { signedOut(); return; }
    timer = setTimeout(check, Math.max(0, status.seconds_left - status.warn_seconds) * 1000);
  }

  function check() {
    askStatus().then(function (status) {
      if (!status) { return; }
      if (!status.signed_in) { signedOut(); return; }
      if (status.seconds_left > status.warn_seconds + 1) { hide(); arm(status); return; }
      warn(status);
    });
  }

  function atTheEnd() {
    saveAll().then(askStatus).then(function (status) {
      if (status && status.signed_in) {  // used elsewhere meanwhile (another tab), or not quite ended yet
        if (status.seconds_left > status.warn_seconds + 1) { hide(); arm(status); }
        else { clearTimeout(timer); timer = setTimeout(atTheEnd, (status.seconds_left + 1) * 1000); }
        return;
      }
      signedOut();
    });
  }

  function clock(date) {
    return date.toLocaleTimeString("en-GB", {hour: "2-digit", minute: "2-digit"});
  }

  function buildDialog() {
    var element = document.createElement("dialog");
    element.id = "idle-warning";
    element.className = "idle-warning";
    element.setAttribute("role", "alertdialog");
    element.setAttribute("aria-labelledby", "idle-warning-title");
    element.setAttribute("aria-describedby", "idle-warning-text");
    element.innerHTML = '<h2 id="idle-warning-title">You are about to be signed out</h2>' +
      '<p id="idle-warning-text"></p><p class="idle-warning-countdown" aria-hidden="true"></p>' +
      '<p class="idle-warning-buttons"><button type="button" class="btn btn-primary" data-stay>Stay signed in</button> ' +
      '<button type="button" class="btn btn-default" data-sign-out>Sign out</button></p>';
    element.querySelector("[data-stay]").addEventListener("click", stay);
    element.querySelector("[data-sign-out]").addEventListener("click", signOutNow);
    element.addEventListener("cancel", function (event) {  // Escape: the same as "Stay signed in"
      event.preventDefault();
      stay();
    });
    document.body.appendChild(element);
    return element;
  }

  function warn(status) {
    dialog = dialog || buildDialog();
    var endsAt = new Date(Date.now() + status.seconds_left * 1000);
    var stayButton = dialog.querySelector("[data-stay]");
    stayButton.hidden = !status.can_stay;
    dialog.querySelector("#idle-warning-text").textContent = status.can_stay
      ? "You have not done anything for a while. To keep the information here safe, you will be signed out at " +
        clock(endsAt) + ". Anything you typed is kept either way."
      : "You will be signed out at " + clock(endsAt) + ": everyone is, this long after signing in. Anything you " +
        "typed is kept: sign in again to carry on.";
    dialog.dataset.signOutUrl = status.sign_out_url;
    if (!dialog.open) {
      focusedBefore = document.activeElement;
      dialog.showModal();
    }
    (status.can_stay ? stayButton : dialog.querySelector("[data-sign-out]")).focus();
    clearInterval(ticker);
    var countdown = dialog.querySelector(".idle-warning-countdown");
    var tick = function () {
      var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    };
    tick();
    ticker = setInterval(tick, 1000);
    saveAll();
    clearTimeout(timer);
    timer = setTimeout(atTheEnd, (status.seconds_left + 1) * 1000);
  }

  function hide() {
    clearInterval(ticker);
    if (dialog && dialog.open) {
      dialog.close();
      if (focusedBefore && document.contains(focusedBefore)) { focusedBefore.focus(); }
    }
  }

  function stay() {
    postJson(urls.stayUrl, {}).then(function (status) {
      if (!status.signed_in) { signedOut(); return; }
      hide();
      arm(status);
    }).catch(function () { return null; });
  }

  function signOutNow() {
    var url = dialog.dataset.signOutUrl;
    saveAll().then(function () {
      var form = document.createElement("form");
      form.method = "post";
      form.action = url;
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrf_token";
      token.value = csrfToken();
      form.appendChild(token);
      document.body.appendChild(form);
      form.submit();
    });
  }

  function signedOut() {
    // The session has ended: to the sign-in page, which comes back to this page (the form, with its words).
    if (ending) { return; }
    ending = true;
    clearTimeout(timer);
    drafts.forEach(function (draft) { draft.done = true; clearTimeout(draft.timer); });
    var page = drafts.length ? drafts[0].page : window.location.pathname + window.location.search;
    window.location.assign(urls.loginUrl + "?next=" + encodeURIComponent(page));
  }

  // --- start ----------------------------------------------------------------------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll("form input[name=draft_token]"), function (input) {
    drafts.push(new Draft(input.form, input));
  });
  askStatus().then(arm);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !ending) { check(); }  // timers sleep with the laptop and in background tabs
  });
}());
