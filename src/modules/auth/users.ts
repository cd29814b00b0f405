import { timingSafeEqual } from "node:crypto";
import { ConfigError } from "../../config";

export const DEMO_USERS = "admin:admin,user:user";

export type UserTable = Map<string, string>;

const USER_NAME = /^[A-Za-z0-9_.@-]{1,128}$/;
// The parameter part of an argon2 hash ($m=65536,t=2,p=1$) is the only place a comma may sit
// inside an entry of the one-line form.
const ARGON2_PARAMS_SO_FAR = /^\$argon2(id|i|d)\$v=\d+\$m=\d+(,t=\d+)?$/;
const ARGON2_PARAM = /^[tp]=\d+/;

function addUser(users: UserTable, name: string, password: string): void {
  const shown = JSON.stringify(name.slice(0, 40));
  if (!USER_NAME.test(name)) {
    throw new ConfigError(`AUTH_USERS: user name ${shown} must be 1 to 128 letters, digits or _ . @ - (no spaces)`);
  }
  if (users.has(name)) throw new ConfigError(`AUTH_USERS: user ${shown} is given twice`);
  if (password === "") throw new ConfigError(`AUTH_USERS: user ${shown} has an empty password`);
  if (password !== password.trim()) {
    throw new ConfigError(`AUTH_USERS: the password of ${shown} starts or ends with whitespace; use a JSON object if that is meant`);
  }
  users.set(name, password);
}

/** One line of `name:password` entries separated by commas (commas inside argon2 hashes kept). */
function splitOneLine(line: string): string[] {
  const entries: string[] = [];
  for (const part of line.split(",")) {
    const last = entries.length - 1;
    const password = last >= 0 ? entries[last]!.slice(entries[last]!.indexOf(":") + 1) : "";
    if (last >= 0 && ARGON2_PARAMS_SO_FAR.test(password) && ARGON2_PARAM.test(part)) entries[last] += "," + part;
    else entries.push(part);
  }
  return entries;
}

/**
 * AUTH_USERS: a JSON object {"name": "password"}; or one `name:password` per line, where a
 * password may contain commas and colons; or, on a single line, entries separated by commas, where
 * a comma always separates (plain passwords with commas need the other two forms). Anything that
 * could be read two ways (a stray comma, padded names or passwords, a name given twice) is refused.
 */
export function parseUsers(spec: string): UserTable {
  const users: UserTable = new Map();
  const trimmed = spec.trim();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new ConfigError("AUTH_USERS: invalid JSON object");
    }
    for (const [name, password] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof password !== "string") throw new ConfigError(`AUTH_USERS: password of ${JSON.stringify(name)} must be a string`);
      addUser(users, name, password);
    }
  } else {
    const lines = trimmed.split(/\r?\n/);
    const entries = lines.length > 1 ? lines : splitOneLine(trimmed);
    for (const [index, entry] of entries.entries()) {
      const item = entry.trim();
      if (!item && lines.length > 1) continue;
      const colon = item.indexOf(":");
      if (colon === -1) {
        throw new ConfigError(
          // Numbered, not shown: the entry may be the tail of a password.
          `AUTH_USERS: entry ${index + 1} of ${entries.length} has no ':'; a password with a comma needs one user per line or a JSON object`,
        );
      }
      addUser(users, item.slice(0, colon), item.slice(colon + 1));
    }
  }
  if (users.size === 0) throw new ConfigError("AUTH_USERS: no users given");
  return users;
}

const isHash = (stored: string) => /^\$(argon2(id|i|d)|2[aby]?)\$/.test(stored);

/** Constant-time check; stored passwords may be Bun.password (argon2/bcrypt) hashes. */
export async function verifyPassword(stored: string, given: string): Promise<boolean> {
  if (isHash(stored)) {
    try {
      return await Bun.password.verify(given, stored);
    } catch {
      return false;
    }
  }
  const a = new Bun.CryptoHasher("sha256").update(stored).digest();
  const b = new Bun.CryptoHasher("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}

/** The algorithm and cost of a Bun.password hash, so a dummy can be made that costs the same. */
export function hashParameters(stored: string): Bun.Password.Argon2Algorithm | Bun.Password.BCryptAlgorithm | null {
  const argon2 = /^\$(argon2(?:id|i|d))\$v=\d+\$m=(\d+),t=(\d+)/.exec(stored);
  if (argon2) {
    return { algorithm: argon2[1] as "argon2id" | "argon2i" | "argon2d", memoryCost: Number(argon2[2]), timeCost: Number(argon2[3]) };
  }
  const bcrypt = /^\$2[aby]?\$(\d{2})\$/.exec(stored);
  return bcrypt ? { algorithm: "bcrypt", cost: Number(bcrypt[1]) } : null;
}

// A comparison for unknown users when no password is hashed: plain passwords compare in constant time.
const DUMMY = "not-a-user-password";

/**
 * What an unknown user's password is checked against: a hash of a random password with the
 * same algorithm and cost as the users' own hashes (the first one found), so a wrong name takes
 * as long as a wrong password and names cannot be told apart by timing.
 */
export async function dummyPasswordFor(users: UserTable): Promise<string> {
  for (const stored of users.values()) {
    const parameters = hashParameters(stored);
    if (parameters) return Bun.password.hash(crypto.randomUUID(), parameters);
  }
  return DUMMY;
}

export async function authenticate(users: UserTable, username: string, password: string, dummy: string = DUMMY): Promise<boolean> {
  const stored = users.get(username);
  const ok = await verifyPassword(stored ?? dummy, password);
  return stored !== undefined && ok;
}
