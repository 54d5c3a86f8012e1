// Starts the vendored Swagger UI on Hotline's own OpenAPI document (no external requests).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#reference", deepLinking: true, validatorUrl: null });
});
