// The chart `bun run bench` writes beside bench/latest.json: req/s by route with one bar per peer
// (bun-k8s, raw Bun.serve, podinfo), and start-up and RSS panels beside it. Plain SVG text, no
// chart library; every piece of text is escaped. Tested in tests/lib/bench-chart.test.ts.

export interface ChartRoute {
  /** Shown left of the group, e.g. "GET /health". */
  label: string;
  /** Below the label, e.g. podinfo's path when it differs. */
  sublabel?: string;
  /** req/s by peer; a peer without a value gets no bar on this route. */
  values: Record<string, number | undefined>;
}

export interface ChartPanel {
  /** e.g. "start-up (spawn to first 200)" */
  title: string;
  unit: string;
  values: Record<string, number | undefined>;
  /** Digits after the point in the value labels. Default 1. */
  digits?: number;
}

export interface ChartInput {
  title: string;
  subtitle?: string;
  /** Peers in legend and bar order. */
  peers: string[];
  routes: ChartRoute[];
  panels: ChartPanel[];
  /** Lines of small print under the chart (machine, load, skipped peers). */
  notes?: string[];
}

const COLOURS = ["#e0457b", "#8a94a6", "#2b8fd6", "#3aa655", "#d9882b"];
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** 125113 -> "125,113"; 36.54 -> "36.5" (digits after the point). */
export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const num = (n: number) => String(Math.round(n * 10) / 10);

function text(x: number, y: number, body: string, attrs = ""): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? " " + attrs : ""}>${escapeXml(body)}</text>`;
}

export function renderBenchChart(input: ChartInput): string {
  const colour = (peer: string) => COLOURS[input.peers.indexOf(peer) % COLOURS.length]!;
  const BAR = 13;
  const GAP = 3;
  const GROUP_GAP = 14;
  const LABEL_W = 200;
  const LEFT_BARS_W = 400;
  const LEFT_W = LABEL_W + LEFT_BARS_W + 90;
  const PANEL_X = LEFT_W + 30;
  const PANEL_LABEL_W = 80;
  const PANEL_BARS_W = 170;
  const WIDTH = PANEL_X + PANEL_LABEL_W + PANEL_BARS_W + 80;
  const TOP = 96;
  const out: string[] = [];

  // ---------------------------------------------------------------- req/s by route
  const maxRps = Math.max(1, ...input.routes.flatMap((r) => Object.values(r.values).filter((v): v is number => Number.isFinite(v))));
  let y = TOP;
  out.push(text(0, y - 12, "req/s by route (median of rounds; longer is better)", 'font-size="13" font-weight="600"'));
  for (const route of input.routes) {
    const peers = input.peers.filter((p) => Number.isFinite(route.values[p]));
    const groupH = Math.max(1, peers.length) * (BAR + GAP) - GAP;
    const mid = y + groupH / 2;
    out.push(text(LABEL_W - 8, route.sublabel ? mid - 2 : mid + 4, route.label, 'font-size="12" text-anchor="end"'));
    if (route.sublabel) out.push(text(LABEL_W - 8, mid + 11, route.sublabel, 'font-size="10" fill="#666" text-anchor="end"'));
    peers.forEach((peer, i) => {
      const v = route.values[peer]!;
      const w = Math.max(1, (v / maxRps) * LEFT_BARS_W);
      const by = y + i * (BAR + GAP);
      out.push(
        `<rect class="bar" data-route="${escapeXml(route.label)}" data-peer="${escapeXml(peer)}" data-value="${num(v)}" ` +
          `x="${LABEL_W}" y="${num(by)}" width="${num(w)}" height="${BAR}" fill="${colour(peer)}"/>`,
      );
      out.push(text(LABEL_W + w + 4, by + BAR - 3, formatNumber(v), 'font-size="10"'));
    });
    y += groupH + GROUP_GAP;
  }
  const leftBottom = y;

  // ---------------------------------------------------------------- panels (start-up, RSS)
  let py = TOP;
  for (const panel of input.panels) {
    const peers = input.peers.filter((p) => Number.isFinite(panel.values[p]));
    const max = Math.max(1e-9, ...peers.map((p) => panel.values[p]!));
    out.push(text(PANEL_X, py - 12, `${panel.title} (${panel.unit})`, 'font-size="13" font-weight="600"'));
    peers.forEach((peer, i) => {
      const v = panel.values[peer]!;
      const w = Math.max(1, (v / max) * PANEL_BARS_W);
      const by = py + i * (BAR + GAP);
      out.push(text(PANEL_X + PANEL_LABEL_W - 6, by + BAR - 3, peer, 'font-size="11" text-anchor="end"'));
      out.push(
        `<rect class="panel-bar" data-panel="${escapeXml(panel.title)}" data-peer="${escapeXml(peer)}" data-value="${num(v)}" ` +
          `x="${PANEL_X + PANEL_LABEL_W}" y="${num(by)}" width="${num(w)}" height="${BAR}" fill="${colour(peer)}"/>`,
      );
      out.push(text(PANEL_X + PANEL_LABEL_W + w + 4, by + BAR - 3, `${formatNumber(v, panel.digits ?? 1)} ${panel.unit}`, 'font-size="10"'));
    });
    py += Math.max(1, peers.length) * (BAR + GAP) + 44;
  }

  // ---------------------------------------------------------------- title, legend, notes
  const head: string[] = [text(0, 18, input.title, 'font-size="16" font-weight="700"')];
  if (input.subtitle) head.push(text(0, 36, input.subtitle, 'font-size="11" fill="#555"'));
  let lx = 0;
  for (const peer of input.peers) {
    head.push(`<rect class="legend" x="${lx}" y="46" width="12" height="12" fill="${colour(peer)}"/>`);
    head.push(text(lx + 16, 56, peer, 'font-size="12"'));
    lx += 16 + peer.length * 7.5 + 18;
  }
  let ny = Math.max(leftBottom, py) + 6;
  for (const note of input.notes ?? []) {
    out.push(text(0, ny, note, 'font-size="10" fill="#555"'));
    ny += 14;
  }
  const HEIGHT = Math.ceil(ny + 6);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="-10 -4 ${WIDTH + 20} ${HEIGHT + 8}" ${FONT}>`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect x="-10" y="-4" width="${WIDTH + 20}" height="${HEIGHT + 8}" fill="#ffffff"/>`,
    ...head,
    ...out,
    `</svg>`,
    "",
  ].join("\n");
}
