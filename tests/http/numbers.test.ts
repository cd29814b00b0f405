// src/http/numbers.ts: numbers in queries, paths and headers are plain decimal integers.
import { describe, expect, test } from "bun:test";
import { parseDecimalInt } from "../../src/http/numbers";
import { call, testApp } from "../helpers/app";

describe("parseDecimalInt", () => {
  test("digits with an optional minus, nothing else", () => {
    expect(["0", "7", "42", "-3", "007"].map(parseDecimalInt)).toEqual([0, 7, 42, -3, 7]);
    for (const raw of ["", " ", " 1", "1 ", "0x2", "1e3", "1.5", "+1", "Infinity", "NaN", "1_000", "١", null, undefined]) {
      expect({ raw, value: parseDecimalInt(raw) }).toEqual({ raw, value: null });
    }
  });
});

// What JavaScript's Number() accepts and the FastAPI original (int) answers 422 to.
const NOT_DECIMAL = ["0x2", "%20", "1e1", "1.0", "+1", "Infinity", "0b1", "2%20", "-0x1"];

describe("every numeric query and path parameter", () => {
  const { app } = testApp({ env: { MAX_DELAY_SECONDS: "3" } });
  const places: Array<(n: string) => string> = [
    (n) => `/stress?seconds=${n}`,
    (n) => `/stress?workers=${n}`,
    (n) => `/stress/memory?mb=${n}`,
    (n) => `/delay/${n}`,
    (n) => `/status/${n}`,
    (n) => `/chunked/${n}`,
  ];
  for (const place of places) {
    test(`${place("N")}: 422 for ${NOT_DECIMAL.join(" ")}`, async () => {
      for (const raw of NOT_DECIMAL) {
        const res = await call(app, "GET", place(raw));
        expect({ path: place(raw), status: res.status }).toEqual({ path: place(raw), status: 422 });
        expect(res.json.error).toBe("invalid request");
      }
    });
  }

  test("an empty query value is 422 too (Number would read it as 0)", async () => {
    for (const path of ["/stress?seconds=", "/stress?workers=", "/stress/memory?mb="]) {
      expect({ path, status: (await call(app, "GET", path)).status }).toEqual({ path, status: 422 });
    }
  });

  test("/stress?seconds=0x2 is refused before any CPU is burnt", async () => {
    const t0 = performance.now();
    const res = await call(app, "GET", "/stress?seconds=0x2");
    expect(res.status).toBe(422);
    expect(res.json.detail[0].path).toBe("/seconds");
    expect(performance.now() - t0).toBeLessThan(500);
  });

  test("a value out of range names the parameter and the range", async () => {
    const res = await call(app, "GET", "/delay/4");
    expect(res.status).toBe(422);
    expect(res.json).toEqual({ error: "invalid request", detail: [{ path: "/seconds", message: "expected a whole number from 0 to 3" }] });
  });

  test("plain decimals still work", async () => {
    expect((await call(app, "GET", "/status/204")).status).toBe(204);
    expect((await call(app, "GET", "/delay/0")).json.delayed_seconds).toBe(0);
    expect((await call(app, "GET", "/stress?seconds=0")).json.stressed_seconds).toBe(0);
  });
});
