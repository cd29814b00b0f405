// The chart `bun run bench` writes (bench/latest.svg): well-formed XML, one bar per peer per
// route, the figures as text, and text from the input escaped.
import { describe, expect, test } from "bun:test";
import { escapeXml, formatNumber, renderBenchChart, type ChartInput } from "../../scripts/lib/bench-chart";

/** Problems that make `xml` not well-formed: unbalanced or crossed tags, bad attributes, raw `<` or `&`. */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = token.exec(body))) {
    const [, closing, name, , selfClosing, chars, stray] = m;
    if (stray) problems.push(`stray < at ${m.index}: ${body.slice(m.index, m.index + 30)}`);
    else if (chars !== undefined) {
      if (stack.length === 0 && chars.trim()) problems.push(`text outside the root: ${chars.slice(0, 30)}`);
      for (const ref of chars.match(/&[^;\s]*;?/g) ?? []) {
        if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);$/i.test(ref)) problems.push(`bad entity ${ref}`);
      }
    } else if (name && closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}>`);
    } else if (name) {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
      const attrs = [...(m[3] ?? "").matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => a[1]);
      if (new Set(attrs).size !== attrs.length) problems.push(`<${name}> repeats an attribute`);
      for (const value of (m[3] ?? "").matchAll(/="([^"]*)"/g)) {
        for (const ref of value[1]!.match(/&[^;\s]*;?/g) ?? []) {
          if (!/^&(amp|lt|gt|quot|apos);$/.test(ref)) problems.push(`bad entity in attribute: ${ref}`);
        }
      }
    }
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(" > ")}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

const input: ChartInput = {
  title: "bun-k8s vs Bun.serve vs podinfo",
  subtitle: "2 cores, load average 0.42",
  peers: ["bun-k8s", "Bun.serve", "podinfo"],
  routes: [
    { label: "GET /", values: { "bun-k8s": 114076, "Bun.serve": 146780 } },
    { label: "GET /health", sublabel: "podinfo /healthz", values: { "bun-k8s": 125113, "Bun.serve": 148891, podinfo: 61234 } },
    { label: "POST /echo", values: { "bun-k8s": 50001, podinfo: 40002 } },
  ],
  panels: [
    { title: "start-up", unit: "ms", values: { "bun-k8s": 36.5, "Bun.serve": 4.2, podinfo: 12.3 } },
    { title: "idle RSS", unit: "MiB", values: { "bun-k8s": 54.6, "Bun.serve": 30.1, podinfo: 18.9 } },
  ],
  notes: ["machine: AMD EPYC <2 cores> & friends"],
};

describe("renderBenchChart", () => {
  const svg = renderBenchChart(input);

  test("is well-formed XML with one <svg> root", () => {
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toStartWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd()).toEndWith("</svg>");
  });

  test("the checker notices broken XML (it can fail)", () => {
    expect(xmlProblems(svg.replace("</svg>", ""))).not.toEqual([]);
    expect(xmlProblems(svg.replace("&lt;2 cores&gt;", "<2 cores>"))).not.toEqual([]);
    expect(xmlProblems(svg.replace("&amp; friends", "& friends"))).not.toEqual([]);
  });

  test("one bar per peer per route, none for a peer without a value", () => {
    const bars = [...svg.matchAll(/<rect class="bar" data-route="([^"]*)" data-peer="([^"]*)" data-value="([^"]*)"/g)].map((m) => `${m[1]}|${m[2]}|${m[3]}`);
    expect(bars).toEqual([
      "GET /|bun-k8s|114076",
      "GET /|Bun.serve|146780",
      "GET /health|bun-k8s|125113",
      "GET /health|Bun.serve|148891",
      "GET /health|podinfo|61234",
      "POST /echo|bun-k8s|50001",
      "POST /echo|podinfo|40002",
    ]);
  });

  test("bar lengths follow the values (the longest req/s bar is the largest value)", () => {
    const widths = new Map([...svg.matchAll(/<rect class="bar"[^>]*data-value="([^"]*)"[^>]*width="([^"]*)"/g)].map((m) => [Number(m[1]), Number(m[2])]));
    const sorted = [...widths.keys()].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(widths.get(sorted[i]!)!).toBeGreaterThan(widths.get(sorted[i - 1]!)!);
  });

  test("the figures are in the text: req/s, start-up and RSS", () => {
    for (const n of ["114,076", "146,780", "125,113", "148,891", "61,234", "50,001", "40,002"]) expect(svg).toContain(`>${n}</text>`);
    for (const s of ["36.5 ms", "4.2 ms", "12.3 ms", "54.6 MiB", "30.1 MiB", "18.9 MiB"]) expect(svg).toContain(`>${s}</text>`);
    expect(svg).toContain(">podinfo /healthz</text>");
    const panelBars = [...svg.matchAll(/<rect class="panel-bar"/g)];
    expect(panelBars.length).toBe(6);
  });

  test("text from the input is escaped", () => {
    expect(svg).toContain(">machine: AMD EPYC &lt;2 cores&gt; &amp; friends</text>");
    const odd = renderBenchChart({ ...input, peers: ['a"b', "<c>"], routes: [{ label: "GET /kv/<&>", values: { 'a"b': 1, "<c>": 2 } }], panels: [] });
    expect(xmlProblems(odd)).toEqual([]);
    expect(odd).toContain('data-peer="a&quot;b"');
    expect(odd).toContain(">GET /kv/&lt;&amp;&gt;</text>");
  });
});

describe("escapeXml and formatNumber", () => {
  test("escape the five XML characters and group thousands", () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
    expect(formatNumber(1234567)).toBe("1,234,567");
    expect(formatNumber(36.54, 1)).toBe("36.5");
  });
});
