// Swagger UI's files and init.js are browser code embedded as text (`with { type: "text" }`).
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const source: string;
  export default source;
}
