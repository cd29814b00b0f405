// Headless Chromium for the browser tests: Debian's package driven by playwright-core, with a
// throwaway profile and no background traffic of the browser's own (updates, sync, safe
// browsing), so a test sees only the requests its page makes and works offline.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { requireTool } from "./tools";

/** Chromium's path; undefined after registering the CI failure or printing the skip reason. */
export function requireChromium(): string | undefined {
  return requireTool("chromium", "Debian: apt-get install -y chromium", [process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"]);
}

export interface Browser {
  context: BrowserContext;
  /** The profile's first page (Chromium opens one), or a new one. */
  page(): Promise<Page>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

export async function launchChromium(
  executablePath: string,
  name: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), `bun-k8s-chromium-${name}-`));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
      ],
      ...(options.viewport ? { viewport: options.viewport } : {}),
      timeout: 30_000,
    });
    return {
      context,
      page: async () => context.pages()[0] ?? (await context.newPage()),
      close: async () => {
        await context.close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
