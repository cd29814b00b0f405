// The lesson runner's pieces that need no cluster: the expectation grammar, the split into
// commands, and the shell driver on a real bash.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LessonShell, runCommand } from "../../scripts/lib/lesson-runner";
import { clusterSkip, ExpectationError, lessonFromDoc, parseExpectation, splitCommands, splitStatus, unmet } from "../../scripts/lib/lessons";
import { parseDoc } from "../../scripts/lib/markdown";

describe("expectations", () => {
  test("prose is not an expectation; every term is read, in any order, then prose", () => {
    expect(parseExpectation("READY 2/2")).toBeNull();
    expect(parseExpectation(null)).toBeNull();
    const e = parseExpectation('expect within 30s 503 {"status":"not ready"} "a \\"b\\"" !"c" /x+y/i !/z/ exit 2 empty: and then prose "d"')!;
    expect(e.withinSeconds).toBe(30);
    expect(e.status).toBe(503);
    expect(e.json).toEqual({ status: "not ready" });
    expect(e.contains).toEqual(['a "b"']);
    expect(e.excludes).toEqual(["c"]);
    expect(e.matches.map(String)).toEqual(["/x+y/i"]);
    expect(e.rejects.map(String)).toEqual(["/z/"]);
    expect(e.exit).toBe(2);
    expect(e.empty).toBe(true);
    expect(parseExpectation("expect fails: a broken release")!.exit).toBe("nonzero");
    expect(parseExpectation("expect 503: draining")!.status).toBe(503);
  });

  test("an expect with nothing checkable, JSON without a status or an open regex is an error", () => {
    expect(() => parseExpectation("expect the pods to roll")).toThrow(ExpectationError);
    expect(() => parseExpectation("expect within 10s")).toThrow(ExpectationError);
    expect(() => parseExpectation('expect {"a":1}')).toThrow(ExpectationError);
    expect(() => parseExpectation("expect /open")).toThrow(ExpectationError);
  });

  test("unmet: exit status (0 unless told), status and JSON of a curl, texts and patterns", () => {
    const ok = { output: "hello world", code: 0 };
    expect(unmet(null, ok)).toEqual([]);
    expect(unmet(null, { output: "", code: 1 })).toEqual(["exit status 1, expected 0"]);
    expect(unmet(parseExpectation("expect fails"), { output: "", code: 3 })).toEqual([]);
    expect(unmet(parseExpectation("expect fails"), ok)).toHaveLength(1);
    expect(unmet(parseExpectation('expect "world" /^hel/ !"bye" !/x/'), ok)).toEqual([]);
    expect(unmet(parseExpectation('expect "moon"'), ok)).toEqual(['output lacks "moon"']);
    expect(unmet(parseExpectation('expect !"world"'), ok)).toEqual(['output has "world"']);
    expect(unmet(parseExpectation("expect empty"), ok)).toEqual(["output is not empty"]);
    const curl = { output: 'HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\r\n{"status":"not ready","x":1}\n__HTTP_STATUS__503', code: 0 };
    expect(splitStatus(curl.output)).toEqual({ status: 503, body: '{"status":"not ready","x":1}' });
    expect(unmet(parseExpectation('expect 503 {"status":"not ready"}'), curl)).toEqual([]);
    expect(unmet(parseExpectation('expect 200 {"status":"ready"}'), curl)).toEqual(["HTTP 503, expected 200", 'body does not contain {"status":"ready"}']);
  });

  test("the cluster: skip reason, alone or after an e2e: skip with its own parentheses and semicolons", () => {
    expect(clusterSkip("cluster: skip (needs Docker)")).toBe("needs Docker");
    expect(clusterSkip("e2e: skip (a loop; forever); cluster: skip (a watch (second terminal); see lesson 8)")).toBe("a watch (second terminal); see lesson 8");
    expect(clusterSkip("e2e: skip (needs a cluster)")).toBeNull();
    expect(clusterSkip('excerpt: kustomize/base/hpa.yaml "minReplicas:" 2')).toBeNull();
  });
});

describe("commands of a block", () => {
  test("continuations and heredocs stay with their command; the expectation is on its last line (a heredoc's first)", () => {
    const cmds = splitCommands(["# a note", "echo a \\", "  b   # expect \"a b\"", "", "cat > f <<'EOF'   # expect empty", "x # not a comment", "EOF", "ls"], 10);
    expect(cmds.map((c) => c.line)).toEqual([11, 14, 17]);
    expect(cmds[0]!.text).toBe('echo a \\\n  b   # expect "a b"');
    expect(cmds[0]!.expect!.contains).toEqual(["a b"]);
    expect(cmds[1]!.text.split("\n")).toHaveLength(3);
    expect(cmds[1]!.expect!.empty).toBe(true);
    expect(cmds[2]!.expect).toBeNull();
  });

  test("a lesson page: its number, title and shell blocks, with the skipped ones and their reason", () => {
    const doc = parseDoc("docs/99-x.md", "# 99. X\n\n```sh\necho 1   # expect \"1\"\n```\n\n<!-- cluster: skip (local only) -->\n```sh\nbun run start\n```\n\n```yaml\na: 1\n```\n");
    const lesson = lessonFromDoc(doc)!;
    expect(lesson).toMatchObject({ number: "99", title: "99. X" });
    expect(lesson.blocks.map((b) => b.skip)).toEqual([null, "local only"]);
    expect(lessonFromDoc(parseDoc("docs/README.md", "# x\n"))).toBeNull();
  });
});

describe("the shell a lesson runs in (real bash)", () => {
  const dir = mkdtempSync(join(tmpdir(), "lesson-shell-"));
  const shell = new LessonShell({ cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME }, outDir: join(dir, "out") });
  afterAll(async () => {
    await shell.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const [setVar, useVar, unsetVar, readsStdin, background, retried] = splitCommands(
    [
      "NAME=$(echo pod-1)",
      'echo "server:$NAME"   # expect "server:$NAME" !"server:pod-2"',
      'echo "server:$NAME"   # expect !"$NOT_SET_HERE"',
      'read line; echo "got:[$line]"   # expect "got:[]"',
      "sleep 30 & sleep 0.1",
      "test -f flag || { touch flag; false; }   # expect within 10s empty",
    ],
    1,
  );

  test("variables carry from command to command, and $NAME in an expectation is the shell's value", async () => {
    expect((await runCommand(shell, setVar!)).problems).toEqual([]);
    const r = await runCommand(shell, useVar!);
    expect(r.output).toBe("server:pod-1\n");
    expect(r.problems).toEqual([]);
    expect((await runCommand(shell, unsetVar!)).problems).toContain("the expectation names $NOT_SET_HERE, which is empty in the lesson's shell");
  });

  test("a command never reads the runner's own input (stdin is /dev/null)", async () => {
    expect((await runCommand(shell, readsStdin!)).problems).toEqual([]);
    expect((await shell.run("echo still-here")).output).toBe("still-here\n");
  });

  test("`within` retries until the expectation holds", async () => {
    const r = await runCommand(shell, retried!);
    expect(r.problems).toEqual([]);
    expect(r.attempts).toBe(2);
  });

  test("a background job is seen at the end of the lesson; a command past its timeout fails", async () => {
    await runCommand(shell, background!);
    expect(await shell.backgroundJobs()).toHaveLength(1);
    await shell.run("kill %1; wait");
    expect(await shell.backgroundJobs()).toEqual([]);
    // As in a terminal, the next job is %1 again once the killed one is gone.
    await shell.run("sleep 31 & sleep 0.1");
    await shell.run("kill %1");
    await shell.run("sleep 32 & sleep 0.1");
    expect((await shell.run("kill %1")).code).toBe(0);
    await Bun.sleep(100);
    expect(await shell.backgroundJobs()).toEqual([]);
    await expect(shell.run("sleep 5", 300)).rejects.toThrow(/timed out after 0.3 s/);
  });
});
