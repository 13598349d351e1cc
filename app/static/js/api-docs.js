// Starts the vendored Swagger UI on /docs (app/routes/api_docs.py). It is a file of its own
// because the page's policy allows scripts from this server only, never an inline one.
const root = document.getElementById("swagger-ui");

if (root && window.SwaggerUIBundle) {
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    showExtensions: true,
    // The badge would ask a public validator about this API: nothing leaves the server.
    validatorUrl: null,
  });
}
