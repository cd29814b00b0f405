// Stylesheets are embedded as text (`with { type: "text" }`); bun-types declares no *.css module.
declare module "*.css" {
  const text: string;
  export default text;
}
