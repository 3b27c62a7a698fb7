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
      submit.disabled = tooBig;
      input.setAttribute("aria-invalid", tooBig ? "true" : "false");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    uploadCheck();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    localTimes(event.target.parentNode || document);
  });
})();
