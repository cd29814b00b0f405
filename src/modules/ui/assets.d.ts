// Stylesheets are embedded as text (`with { type: "text" }`); bun-types declares no *.css module.
declare module "*.css" {
  const text: string;
  export default text;
}

// uPlot's browser build, embedded as text; its own typings describe the module build, not this file.
declare module "uplot/dist/uPlot.iife.min.js" {
  const source: string;
  export default source;
}
