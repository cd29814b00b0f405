// `bun run docs:tables`: prints the README's generated tables; with --write, refreshes them in place.
import { join } from "node:path";
import { BLOCKS, extractBlock, renderBlock } from "./lib/readme-tables";
import { ROOT } from "./lib/repo";

const path = join(ROOT, "README.md");
if (process.argv.includes("--write")) {
  let readme = await Bun.file(path).text();
  for (const block of BLOCKS) {
    const current = extractBlock(readme, block.name);
    if (!current) throw new Error(`README.md has no ${block.name} block`);
    readme = readme.replace(current, renderBlock(block));
  }
  await Bun.write(path, readme);
  console.log(`README.md: ${BLOCKS.map((b) => b.name).join(", ")} refreshed`);
} else {
  for (const block of BLOCKS) console.log(renderBlock(block) + "\n");
}
