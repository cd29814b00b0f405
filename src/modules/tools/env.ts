// GET /env: the process environment with secrets masked.
import { CONFIG_VARS, type ConfigVar } from "../../config";

export const MASK = "****";
/** Names that look secret, whatever their value (PASS covers PASSWORD, PASSWD, PASSPHRASE; CRED covers CREDS). */
export const SECRET_NAME = /PASS|PWD|SECRET|TOKEN|KEY|AUTH|CRED|PRIVATE|SALT|SIGNING|DSN/i;
/** The shell's working directories: their names contain PWD, their values are paths. */
const SHELL_DIRS = new Set(["PWD", "OLDPWD"]);
const URL_START = /[a-z][a-z0-9+.-]*:\/\//gi;
// name=value pairs whose name looks secret: libpq and ODBC connection strings, query strings.
const SECRET_PAIR = /([A-Za-z0-9_.-]*(?:PASS|PWD|SECRET|TOKEN|KEY|AUTH|CRED|SALT|SIG)[A-Za-z0-9_.-]*)(\s*=\s*)('[^']*'|"[^"]*"|[^\s;&,]*)/gi;

/**
 * In every URL of the value, everything between :// and the URL's last @ is credentials (an
 * unencoded @ or # in a password would otherwise end the userinfo early). The user name before
 * the first colon stays; a bare userinfo (a token) is masked whole. A URL runs to the next
 * whitespace or the start of the next URL, so a comma-separated list is masked URL by URL.
 */
export function maskUrlCredentials(value: string): string {
  const starts = [...value.matchAll(URL_START)].map((m) => m.index);
  if (starts.length === 0) return value;
  let out = value.slice(0, starts[0]);
  starts.forEach((start, i) => {
    const next = starts[i + 1] ?? value.length;
    const scheme = value.indexOf("://", start) + 3;
    const space = value.slice(scheme, next).search(/\s/);
    const end = space === -1 ? next : scheme + space;
    const authorityAndRest = value.slice(scheme, end);
    const at = authorityAndRest.lastIndexOf("@");
    if (at === -1) {
      out += value.slice(start, next);
      return;
    }
    const userinfo = authorityAndRest.slice(0, at);
    const colon = userinfo.search(/[:@]/);
    const user = colon !== -1 && userinfo[colon] === ":" ? userinfo.slice(0, colon) + ":" : "";
    out += value.slice(start, scheme) + user + MASK + authorityAndRest.slice(at) + value.slice(end, next);
  });
  return out;
}

/** password=..., Pwd='...', api_key=... inside a value. */
export function maskSecretPairs(value: string): string {
  return value.replace(SECRET_PAIR, (_, name: string, eq: string) => `${name}${eq}${MASK}`);
}

const maskValue = (value: string) => maskSecretPairs(maskUrlCredentials(value));

export interface MaskedEnv {
  env: Record<string, string>;
  masked: string[];
}

/**
 * Masks: every CONFIG_VARS entry marked secret (REDIS_URL keeps its host, only its credentials are
 * masked); any other name matching SECRET_NAME; and, in every other value, URL credentials and
 * secret-looking name=value pairs. Known non-secret settings (REDIS_KEY_PREFIX,
 * MAX_KEY_LENGTH) are shown although their names contain KEY.
 */
export function maskEnv(env: Record<string, string | undefined>, vars: readonly ConfigVar[] = CONFIG_VARS): MaskedEnv {
  const known = new Map(vars.map((v) => [v.env, v]));
  const out: Record<string, string> = {};
  const masked: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined) continue;
    const v = known.get(name);
    let shown: string;
    if (v?.secret) {
      // REDIS_URL: the host is what a learner wants to see; only its credentials are secret.
      shown = name === "REDIS_URL" ? maskUrlCredentials(value) : MASK;
    } else if (!v && SECRET_NAME.test(name) && !SHELL_DIRS.has(name)) {
      shown = MASK;
    } else {
      shown = maskValue(value);
    }
    if (shown !== value) masked.push(name);
    out[name] = shown;
  }
  return { env: out, masked };
}
