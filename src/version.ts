import pkg from "../package.json" with { type: "json" };

// scripts/build.ts bakes these in with `bun build --define`; from source they fall back.
declare const BUILD_VERSION: string | undefined;
declare const BUILD_REVISION: string | undefined;

export const VERSION: string = typeof BUILD_VERSION === "string" ? BUILD_VERSION : pkg.version;
export const REVISION: string =
  typeof BUILD_REVISION === "string" ? BUILD_REVISION : (process.env.GIT_REVISION ?? "dev");
