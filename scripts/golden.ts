/**
 * `npm run golden`: rewrites the golden files under test/infra/golden/ from what the builders render now. Run it
 * after an intended change to a workflow and commit the diff; the tests never write these files themselves.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { GOLDEN_SOURCES } from "../test/infra/golden/sources";
import { goldenFile, goldenText } from "../test/infra/asl";

for (const [name, render] of Object.entries(GOLDEN_SOURCES)) {
  const file = goldenFile(name);
  const text = goldenText(render());
  const before = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  process.stdout.write(`${before === text ? "unchanged" : before === undefined ? "created  " : "updated  "} ${path.relative(process.cwd(), file)}\n`);
}
