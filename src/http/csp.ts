// The Content-Security-Policy of the pages the service serves (the dashboard, the OpenAPI docs):
// their own scripts and styles only, data: images (icons), requests to this origin only, and
// never framed (the dashboard's crash button must not be clickjacked).
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");
