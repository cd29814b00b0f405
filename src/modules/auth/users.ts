import { timingSafeEqual } from "node:crypto";
import { ConfigError } from "../../config";

export const DEMO_USERS = "admin:admin,user:user";

export type UserTable = Map<string, string>;

// Entries are `name:password`, separated by commas or newlines. A comma followed by something
// that is not `name:` belongs to the password (argon2 hashes contain commas). A JSON object
// {"name": "password"} is accepted too.
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
      if (typeof password !== "string" || !name) throw new ConfigError(`AUTH_USERS: password of ${JSON.stringify(name)} must be a string`);
      users.set(name, password);
    }
  } else {
    for (const entry of trimmed.split(/\n|,(?=\s*[A-Za-z0-9_.@-]+:)/)) {
      const item = entry.trim();
      if (!item) continue;
      const colon = item.indexOf(":");
      if (colon <= 0 || colon === item.length - 1) throw new ConfigError(`AUTH_USERS: expected user:password, got ${JSON.stringify(item.slice(0, 40))}`);
      users.set(item.slice(0, colon), item.slice(colon + 1));
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

// Unknown users still pay for a comparison, so timing does not reveal which names exist.
const DUMMY = "not-a-user-password";

export async function authenticate(users: UserTable, username: string, password: string): Promise<boolean> {
  const stored = users.get(username);
  const ok = await verifyPassword(stored ?? DUMMY, password);
  return stored !== undefined && ok;
}
