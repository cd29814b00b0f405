// Starts Swagger UI on this origin's OpenAPI document. A file, not an inline script, so the page's
// Content-Security-Policy can allow scripts from 'self' only.
window.SwaggerUIBundle({ url: "/openapi/json", dom_id: "#swagger-ui", deepLinking: true });
