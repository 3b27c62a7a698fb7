// GAS page behaviour. No inline scripts (the CSP forbids them): everything is here.
(function () {
  "use strict";

  // Times are stored and sent in UTC; show them in the reader's local time.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.title = el.textContent;
        el.textContent = when.toLocaleString();
      }
    });
  }

  // Free accounts: refuse a file that is too large before anything is sent.
  function uploadCheck() {
    var form = document.getElementById("upload-form");
    if (!form) return;
    var input = form.querySelector("input[type=file]");
    var error = document.getElementById("file-error");
    var submit = document.getElementById("upload-submit");
    var max = parseInt(form.dataset.maxBytes, 10);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var tooBig = !!file && form.dataset.premium !== "true" && file.size > max;
      error.hidden = !tooBig;
      if (tooBig) error.querySelector("[data-size]").textContent = file.size.toLocaleString();
      form.dataset.tooBig = tooBig ? "true" : "false";
      updateSubmit(form);
      input.setAttribute("aria-invalid", tooBig ? "true" : "false");
    });
  }

  function updateSubmit(form) {
    document.getElementById("upload-submit").disabled =
      form.dataset.tooBig === "true" || form.dataset.refreshing === "true";
  }

  // A new build or skip choice fetches a new upload policy that carries it. Until that
  // policy is in the form, sending it would send the old choice: hold the button.
  // If the policy cannot be had, drop the old one, so that the store refuses the
  // upload instead of annotating it with a choice the user has changed.
  function uploadChoices() {
    var form = document.getElementById("upload-form");
    var choices = document.getElementById("build-form");
    if (!form || !choices) return;
    var error = document.getElementById("upload-error");
    choices.addEventListener("htmx:beforeRequest", function () {
      form.dataset.refreshing = "true";
      error.hidden = true;
      updateSubmit(form);
    });
    choices.addEventListener("htmx:afterRequest", function (event) {
      form.dataset.refreshing = "false";
      updateSubmit(form);
      if (event.detail.successful) return;
      document.getElementById("upload-fields").replaceChildren();
      error.textContent = "Your choice could not be saved: check your connection and reload the page.";
      error.hidden = false;
    });
  }

  // Live updates come over server-sent events. While the stream is down (the
  // extension reconnects by itself), poll instead, as a job's end is to show
  // within 3 s of it, stream or not: every second while the page shows a job
  // unfinished, every 2 s otherwise (the job list may not show a job yet that is
  // submitted and done between two polls).
  var streamUp = false;
  var UNFINISHED = "input[name=shown], input[name=unfinished]";  // fragments/job_*.html
  var ticks = 0;
  function refresh(all) {
    if (!window.htmx) return;
    document.querySelectorAll("[data-poll]").forEach(function (el) {
      if (!all && !el.querySelector(UNFINISHED)) return;
      // The element that asks may be an ancestor of what it shows (job.html).
      var asker = el.closest("[hx-trigger]");
      if (asker) htmx.trigger(asker, "poll");
    });
  }
  // An event sent before the stream opened (a quick job ending as its page
  // loads) or while it was down is not sent again: on every (re)connect, fetch
  // what the page shows afresh.
  document.addEventListener("htmx:sseOpen", function () { streamUp = true; refresh(true); });
  document.addEventListener("htmx:sseError", function () { streamUp = false; });
  document.addEventListener("htmx:sseClose", function () { streamUp = false; });
  setInterval(function () {
    ticks += 1;
    if (!streamUp) refresh(ticks % 2 === 0);
  }, 1000);

  // Send the file with XMLHttpRequest to show upload progress (large premium
  // files take a while); the store's redirect chain ends on the job page.
  function uploadWithProgress() {
    var form = document.getElementById("upload-form");
    if (!form || !window.FormData) return;
    form.addEventListener("submit", function (event) {
      var submit = document.getElementById("upload-submit");
      var status = document.getElementById("upload-status");
      var bar = document.getElementById("upload-progress");
      var percent = document.getElementById("upload-percent");
      var error = document.getElementById("upload-error");
      if (new URL(form.action, window.location.href).origin !== window.location.origin) {
        // The store is another origin (S3): its redirect back to GAS would end a
        // cross-origin XHR in a CORS error, so the browser posts the form itself and
        // follows the redirect as a navigation. The bar just says it is under way.
        bar.removeAttribute("value");
        status.hidden = false;
        setTimeout(function () { submit.disabled = true; }, 0);
        return;
      }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      submit.disabled = true;
      status.hidden = false;
      error.hidden = true;
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var done = Math.floor((100 * e.loaded) / e.total);
        bar.value = done;
        percent.textContent = done + "%";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
          return;
        }
        // The store answers in S3's XML; GAS's own refusals are pages with an error line.
        var doc = xhr.response;
        var message = doc && (doc.querySelector("Message") || doc.querySelector("p.error"));
        error.textContent = "The upload was refused: " +
          (message ? message.textContent.trim() : "error " + xhr.status) + " Reload the page to try again.";
        error.hidden = false;
        status.hidden = true;
      });
      xhr.addEventListener("error", function () {
        error.textContent = "The upload failed: check your connection and try again.";
        error.hidden = false;
        status.hidden = true;
        submit.disabled = false;
      });
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      xhr.send(new FormData(form));
    });
  }

  // A "Copy" button copies the field it names. The Clipboard API needs a secure context
  // (https or localhost); elsewhere the field's text is selected and copied the old way.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    function done() {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }
    function fallback() {
      field.select();
      if (document.execCommand("copy")) done();
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  });

  // Finished-job notices fade after a while; the job list keeps the record. A
  // job's end may be told twice, by the stream and by the fragment that shows
  // it (app/web/notices.py): the copy that comes second is dropped.
  var noticed = {};
  function noticesAdded(area) {
    Array.prototype.slice.call(area.children).reverse().forEach(function (item) {  // oldest first
      if (item.dataset.seen) return;
      var key = item.dataset.notice;
      if (key && noticed[key]) { item.remove(); return; }
      if (key) noticed[key] = true;
      item.dataset.seen = "true";
      setTimeout(function () { item.remove(); }, 30000);
    });
  }
  function watchNotices() {
    var area = document.getElementById("notices");
    if (area) new MutationObserver(function () { noticesAdded(area); }).observe(area, { childList: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    uploadCheck();
    uploadChoices();
    uploadWithProgress();
    watchNotices();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    localTimes(event.target.parentNode || document);
  });
})();
