// init.js is browser code served as text: `import init from "./init.js" with { type: "text" }`
// gives its source. This declaration lets tsc type that import without checking the browser file.
declare const source: string;
export default source;
