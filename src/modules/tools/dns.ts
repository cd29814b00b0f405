// GET /dns: resolve a name the way this pod does, and show the search path that applies.
// Resolve only: nothing here ever connects to the addresses it finds.
import { lookup, Resolver } from "node:dns/promises";
import { HttpError } from "../../http/errors";

export const MAX_NAME_LENGTH = 253;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SRV_LABEL = /^_[a-z0-9]([a-z0-9-]{0,60}[a-z0-9])?$/;

export type DnsType = "A" | "AAAA" | "SRV";

/**
 * A lowercased hostname (RFC 1123 labels of 1 to 63 letters, digits and inner hyphens, at most
 * 253 characters, optional trailing dot), or an error message. The last label may not be all
 * digits, so IP literals are refused. SRV names may start with _service._proto labels.
 */
export function validateDnsName(raw: string, type?: DnsType): { name: string } | { error: string } {
  const name = raw.trim().toLowerCase();
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  if (bare.length === 0) return { error: "empty name" };
  if (bare.length > MAX_NAME_LENGTH) return { error: `name longer than ${MAX_NAME_LENGTH} characters` };
  const labels = bare.split(".");
  let leading = type === "SRV";
  for (const label of labels) {
    if (leading && SRV_LABEL.test(label)) continue;
    leading = false;
    if (!LABEL.test(label)) {
      return { error: `invalid label ${JSON.stringify(label.slice(0, 64))}: use letters, digits and inner hyphens, 1 to 63 characters` };
    }
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return { error: "an IP address is not a name: nothing to resolve" };
  return { name };
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
}

/** The parts of resolv.conf(5) that decide how a short name is expanded. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1 };
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/[#;].*$/, "").trim();
    if (!line) continue;
    const [keyword, ...args] = line.split(/\s+/);
    if (keyword === "nameserver" && args[0]) conf.nameservers.push(args[0]);
    else if (keyword === "search" || keyword === "domain") conf.search = args.map((d) => d.replace(/\.$/, ""));
    else if (keyword === "options") {
      for (const opt of args) {
        const m = /^ndots:(\d+)$/.exec(opt);
        if (m) conf.ndots = Math.min(15, Number(m[1]));
      }
    }
  }
  return conf;
}

export async function readResolvConf(path = "/etc/resolv.conf"): Promise<ResolvConf> {
  try {
    return parseResolvConf(await Bun.file(path).text());
  } catch {
    return parseResolvConf("");
  }
}

/**
 * The fully qualified names the resolver tries, in order (glibc rules): a trailing dot means
 * exactly that name; a name with at least ndots dots is tried as is first, else last.
 */
export function searchCandidates(name: string, conf: ResolvConf): string[] {
  if (name.endsWith(".")) return [name];
  const expanded = conf.search.map((domain) => `${name}.${domain}.`);
  const asIs = `${name}.`;
  const dots = name.split(".").length - 1;
  return dots >= conf.ndots ? [asIs, ...expanded] : [...expanded, asIs];
}

const NOT_FOUND = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN", "ENONAME", "EAI_NONAME", "EAI_NODATA"]);

export function dnsHttpError(err: unknown, name: string): HttpError {
  const code = (err as { code?: string })?.code ?? "EUNKNOWN";
  if (NOT_FOUND.has(code)) return new HttpError(404, "name not found", { detail: { name, code } });
  if (code === "ETIMEOUT" || code === "ETIMEDOUT") return new HttpError(504, "dns lookup timed out", { detail: { name, code } });
  return new HttpError(502, "dns lookup failed", { detail: { name, code } });
}

export interface DnsAnswer {
  fqdn: string | null;
  addresses?: Array<{ address: string; family: number }>;
  records?: Array<{ name: string; port: number; priority: number; weight: number }>;
}

/** A/AAAA through the system resolver (getaddrinfo: /etc/hosts, search domains, ndots). */
async function resolveAddresses(name: string, type: DnsType | undefined): Promise<DnsAnswer> {
  const family = type === "A" ? 4 : type === "AAAA" ? 6 : 0;
  const found = await lookup(name, { all: true, family });
  const seen = new Set<string>();
  const addresses = found.filter((a) => !seen.has(a.address) && seen.add(a.address));
  return { fqdn: null, addresses };
}

/** SRV through DNS, walking the search path like the system resolver does for addresses. */
async function resolveSrv(candidates: string[], timeoutMs: number): Promise<DnsAnswer> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  let last: unknown;
  for (const fqdn of candidates) {
    try {
      const records = await resolver.resolveSrv(fqdn);
      return { fqdn, records };
    } catch (err) {
      last = err;
      if (!NOT_FOUND.has((err as { code?: string })?.code ?? "")) throw err;
    }
  }
  throw last ?? Object.assign(new Error("not found"), { code: "ENOTFOUND" });
}

export class DnsTimeoutError extends Error {
  code = "ETIMEOUT";
}

/** Resolves within timeoutMs or throws DnsTimeoutError (the lookup itself may finish later, unobserved). */
export async function resolveName(name: string, type: DnsType | undefined, conf: ResolvConf, timeoutMs: number): Promise<DnsAnswer> {
  const work = type === "SRV" ? resolveSrv(searchCandidates(name, conf), timeoutMs) : resolveAddresses(name, type);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DnsTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  work.catch(() => {}); // a late failure after the timeout must not become an unhandled rejection
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
