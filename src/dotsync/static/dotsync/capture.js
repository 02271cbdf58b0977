/* dotsync easy email capture (issue 12 §5): when a shopper leaves one of the configured email fields with a
 * valid email, post it to dotsync's capture endpoint (it becomes the session basket's email, for guest
 * abandoned carts) and, with the Dotdigital Tag on the page, call ddg.identify({email}).
 * Settings come from the JSON element #dotsync-capture: selectors, post, identify, url, csrf. */
(function () {
  "use strict";
  var element = document.getElementById("dotsync-capture");
  if (!element) { return; }
  var config = JSON.parse(element.textContent);
  var valid = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  var done = {};

  function watched(target) {
    return config.selectors.some(function (selector) {
      try { return target.matches(selector); } catch (e) { return false; }  // a selector the browser rejects
    });
  }

  function capture(email) {
    if (config.identify && window.ddg) { window.ddg.identify({ email: email }); }
    if (!config.post || !config.url) { return; }
    var body = new URLSearchParams();
    body.append("email", email);
    fetch(config.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrf, "X-Requested-With": "XMLHttpRequest" }
    }).catch(function () { /* capture is best effort: the page goes on */ });
  }

  document.addEventListener("focusout", function (event) {
    var target = event.target;
    if (!target || typeof target.matches !== "function" || !watched(target)) { return; }
    var email = String(target.value || "").trim();
    if (!valid.test(email) || done[email]) { return; }
    done[email] = true;
    capture(email);
  });
}());
