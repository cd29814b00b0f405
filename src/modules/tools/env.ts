// GET /env: the process environment with secrets masked.
import { CONFIG_VARS, type ConfigVar } from "../../config";

export const MASK = "****";
/** Names that look secret, whatever their value. */
export const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|KEY|AUTH|CREDENTIAL|PRIVATE/i;
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#\s]*)@/i;

/** scheme://user:password@host -> scheme://user:****@host; a bare userinfo (a token) is masked whole. */
export function maskUrlCredentials(value: string): string {
  return value.replace(URL_USERINFO, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return colon === -1 ? `${scheme}${MASK}@` : `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
  });
}

export interface MaskedEnv {
  env: Record<string, string>;
  masked: string[];
}

/**
 * Masks: every CONFIG_VARS entry marked secret (REDIS_URL keeps its host, only its credentials are
 * masked); any other name containing PASSWORD, SECRET, TOKEN, KEY, AUTH (and PASSWD, CREDENTIAL,
 * PRIVATE); and credentials inside any URL value. Known non-secret settings (REDIS_KEY_PREFIX,
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
    } else if (!v && SECRET_NAME.test(name)) {
      shown = MASK;
    } else {
      shown = maskUrlCredentials(value);
    }
    if (shown !== value) masked.push(name);
    out[name] = shown;
  }
  return { env: out, masked };
}
