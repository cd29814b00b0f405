// Swagger UI's bundle is embedded as a file (`with { type: "file" }`): the default export is its
// path, inside the binary when compiled. init.js is browser code embedded as text.
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
