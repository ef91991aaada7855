import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { linkedCheckout } from "../../bench/checkout";
import { BUILD_DIR, PROJECT_ROOT } from "../../infra/bundle";

/** Bundles the PDF exporter with the checkout's own program code, from `cwd` under `umask`; returns the folder. */
function bundleIn(root: string, cwd: string, umask: number): string {
  const script = [
    `process.umask(${umask});`,
    `const root = ${JSON.stringify(root)};`,
    `const { EXPORTER_BUNDLE_PLUGINS } = require(root + "/handlers/export/bundle-assets");`,
    `require(root + "/infra/bundle").bundleHandler({ entry: "handlers/export-pdf.ts", name: "shop-dev-export-pdf", plugins: EXPORTER_BUNDLE_PLUGINS })`,
    `  .then((bundle) => process.stdout.write(bundle.dir));`,
  ].join("\n");
  return execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", script], { cwd, encoding: "utf8" });
}

/**
 * Bundles `entries` in `root` (a checkout with empty caches), all asked for in the same turn as the program asks for
 * its functions; returns each bundle's folder and the inputs its manifest records, relative to the checkout.
 */
function bundleTogether(root: string, entries: readonly string[]): Array<{ dir: string; builtAlongside: number; inputs: string[] }> {
  const script = [
    `const root = ${JSON.stringify(root)};`,
    `const { bundleHandler } = require(root + "/infra/bundle");`,
    `Promise.all(${JSON.stringify(entries)}.map((entry) => bundleHandler({ entry, name: "together-" + entry.replace(/\W/g, "-") })))`,
    `  .then((bundles) => process.stdout.write(JSON.stringify(bundles.map((b) => ({ dir: b.dir, builtAlongside: b.builtAlongside, inputs: b.inputs.map((f) => require("node:path").relative(root, f)).sort() })))));`,
  ].join("\n");
  return JSON.parse(execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", script], { cwd: root, encoding: "utf8" }));
}

/** Like bundleTogether, but reports each bundle's folder or error message instead of failing on the first error. */
function settleTogether(root: string, entries: readonly string[]): Array<{ dir?: string; error?: string }> {
  const script = [
    `const root = ${JSON.stringify(root)};`,
    `const { bundleHandler } = require(root + "/infra/bundle");`,
    `Promise.allSettled(${JSON.stringify(entries)}.map((entry) => bundleHandler({ entry, name: "settle-" + entry.replace(/\W/g, "-") })))`,
    `  .then((results) => process.stdout.write(JSON.stringify(results.map((r) => (r.status === "fulfilled" ? { dir: r.value.dir } : { error: r.reason.message })))));`,
  ].join("\n");
  return JSON.parse(execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", script], { cwd: root, encoding: "utf8" }));
}

/** What a FileArchive of the folder holds: names relative to it, permission bits and content digests. */
function archiveEntries(dir: string): { name: string; mode: string; sha256: string }[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .map((file) => ({
      name: path.relative(dir, file),
      mode: (fs.statSync(file).mode & 0o777).toString(8),
      sha256: createHash("sha256").update(fs.readFileSync(file)).digest("hex"),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe("function bundles", function () {
  this.timeout(120_000);
  let scratch: string;
  // A laptop's checkout and a CI runner's, at paths of different depth, with empty caches. Each test builds handlers
  // no other test builds in them, so every build is a first one (a checkout costs about a second: shared by all).
  let laptop: string;
  let ci: string;
  before(() => {
    fs.mkdirSync(BUILD_DIR, { recursive: true });
    scratch = fs.mkdtempSync(path.join(BUILD_DIR, "checkouts-"));
    laptop = linkedCheckout(PROJECT_ROOT, path.join(scratch, "home", "ada", "order-pipeline"));
    ci = linkedCheckout(PROJECT_ROOT, path.join(scratch, "runner", "work", "repo", "repo"));
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("are the same files, bytes and permissions from two checkouts at different paths, built from different folders under different umasks", () => {
    // WHEN each builds the PDF exporter (esbuild with a plugin and CommonJS dependencies), one from a subfolder
    const fromLaptop = bundleIn(laptop, laptop, 0o022);
    const fromCi = bundleIn(ci, path.join(ci, "handlers"), 0o002);
    // THEN the archives Lambda receives hold the same entries, and nothing names where they were built
    expect(fromLaptop.startsWith(laptop) && fromCi.startsWith(ci), "each checkout builds into its own .build").to.equal(true);
    expect(archiveEntries(fromLaptop)).to.deep.equal(archiveEntries(fromCi));
    expect(archiveEntries(fromLaptop).map((e) => [e.name, e.mode])).to.deep.equal([["index.mjs", "644"]]);
    const code = fs.readFileSync(path.join(fromCi, "index.mjs"), "utf8");
    expect([code.includes(scratch), code.includes(PROJECT_ROOT)]).to.deep.equal([false, false]);
  });

  it("are the same bytes, with the same recorded inputs, whether a handler is built alone or in one esbuild run with others", () => {
    // WHEN one checkout builds the order placement handler on its own, the other with two more handlers in the same turn
    const [single] = bundleTogether(laptop, ["handlers/order-placement.ts"]);
    const batch = bundleTogether(ci, ["handlers/payment-processing.ts", "handlers/order-placement.ts", "handlers/shipping.ts"]);
    // THEN the three were built by one esbuild run, and the bundle Lambda receives and what a rebuild is decided on
    // are the same as built alone
    expect([single!.builtAlongside, ...batch.map((b) => b.builtAlongside)]).to.deep.equal([1, 3, 3, 3]);
    expect(archiveEntries(batch[1]!.dir)).to.deep.equal(archiveEntries(single!.dir));
    expect(batch[1]!.inputs).to.deep.equal(single!.inputs);
    expect(single!.inputs).to.include.members(["handlers/order-placement.ts", "handlers/shared/order-schema.ts"]);
    expect(single!.inputs.some((f) => f.includes("@aws-sdk/client-dynamodb"))).to.equal(true);
    // the other two are their own bundles, not copies of the first
    expect(new Set(batch.map((b) => archiveEntries(b.dir)[0]!.sha256)).size).to.equal(3);
    expect(batch[0]!.inputs).to.not.include("handlers/order-placement.ts");
    // AND both ways load Node's built-ins with require: no ES import of one but the banner's, static or dynamic (the
    // SDK's HTTP handler imports node:http when it sends its first request)
    for (const dir of [single!.dir, batch[1]!.dir]) {
      const code = fs.readFileSync(path.join(dir, "index.mjs"), "utf8");
      expect(code.match(/(from *|import\()"node:[a-z_/]+"/g), dir).to.deep.equal(['from "node:module"', 'from "node:url"', 'from "node:path"']);
      // (esbuild's require shim, renamed by the minifier)
      expect(code, dir).to.match(/[\w$]+\("node:http"\)/);
    }
  });

  it("still bundles every handler that builds when one asked for in the same turn does not, and names the one that failed", () => {
    const [good, broken] = settleTogether(laptop, ["handlers/notification.ts", "handlers/no-such-handler.ts"]);
    expect(good!.error).to.equal(undefined);
    expect(archiveEntries(good!.dir!).map((e) => e.name)).to.deep.equal(["index.mjs"]);
    expect(broken!.dir).to.equal(undefined);
    expect(broken!.error).to.contain("handlers/no-such-handler.ts");
  });
});
