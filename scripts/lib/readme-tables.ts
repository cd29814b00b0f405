// The README's generated tables: configuration (from CONFIG_VARS) and routes (from ROUTES and
// each route's OpenAPI summary). tests/docs/readme.test.ts fails when the README's copy drifts;
// `bun run docs:tables --write` regenerates both.
import { ROUTES } from "../../src/app";
import { CONFIG_VARS } from "../../src/config";
import { offlineApp } from "./app";

export interface GeneratedBlock {
  name: string;
  render(): string;
}

const cell = (text: string) => text.replaceAll("|", "\\|");

export function configTable(): string {
  const rows = CONFIG_VARS.map((v) => {
    const flag = "--" + v.env.toLowerCase().replaceAll("_", "-");
    const def = v.default === undefined ? "(unset)" : v.default === "" ? '""' : `\`${v.default}\``;
    return `| \`${v.env}\` | \`${flag}\` | ${def} | ${cell(v.description)}${v.secret ? " **(secret)**" : ""} |`;
  });
  return ["| Env var | Flag | Default | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

// Routes that carry no OpenAPI summary of their own.
const UNDOCUMENTED: Record<string, string> = {
  "GET /openapi": "API reference page (HTML)",
  "GET /openapi/json": "OpenAPI document of every route",
  "WS /ws/echo": "The WebSocket echo itself",
};

export function routeTable(): string {
  const summaries = new Map(
    offlineApp().routes.map((r) => [`${r.method} ${r.path}`, (r.hooks as { detail?: { summary?: string } }).detail?.summary]),
  );
  const rows: string[] = [];
  for (const [module, routes] of Object.entries(ROUTES)) {
    for (const route of routes) {
      const [method, path] = route.split(" ");
      const summary = summaries.get(route) ?? UNDOCUMENTED[route] ?? "";
      rows.push(`| ${method} | \`${path}\` | ${module} | ${cell(summary)} |`);
    }
  }
  return ["| Method | Path | Module | What it does |", "|---|---|---|---|", ...rows].join("\n");
}

export const BLOCKS: readonly GeneratedBlock[] = [
  { name: "config-table", render: configTable },
  { name: "route-table", render: routeTable },
];

const markers = (name: string) => ({
  begin: `<!-- BEGIN:${name} (generated: bun run docs:tables --write) -->`,
  end: `<!-- END:${name} -->`,
});

/** The block as it should stand in the README, markers included. */
export function renderBlock(block: GeneratedBlock): string {
  const { begin, end } = markers(block.name);
  return `${begin}\n${block.render()}\n${end}`;
}

/** The block as it stands in `text`, markers included, or null. */
export function extractBlock(text: string, name: string): string | null {
  const { begin, end } = markers(name);
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  return start === -1 || stop === -1 ? null : text.slice(start, stop + end.length);
}
