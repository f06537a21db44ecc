// Starts Swagger UI on /docs from the settings the page carries in data attributes (no inline script,
// so the page keeps to the hub's Content-Security-Policy).
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = {
    url: container.dataset.specUrl,
    dom_id: "#swagger-ui-container",
    validatorUrl: null  // the public validator badge would call a host outside the hub
  };
  var extra = JSON.parse(container.dataset.config || "{}");
  for (var name in extra) {
    config[name] = extra[name];
  }
  window.ui = SwaggerUIBundle(config);
});
