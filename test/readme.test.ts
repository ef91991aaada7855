import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { SETTING_KEYS } from "../infra/config";

const README = fs.readFileSync(path.resolve(__dirname, "..", "README.md"), "utf8");

describe("README", () => {
  it("documents every stack config key the program reads", () => {
    const missing = SETTING_KEYS.filter((key) => !README.includes(`\`${key}\``));
    expect(missing).to.deep.equal([]);
  });

  it("leads with the two commands that run the system and its tests", () => {
    const firstBlock = README.slice(README.indexOf("```sh"), README.indexOf("```", README.indexOf("```sh") + 5));
    expect(firstBlock).to.include("npm install").and.include("npm start").and.include("npm test");
  });

  it("names the test command .ci/run runs", () => {
    const ci = fs.readFileSync(path.resolve(__dirname, "..", ".ci", "run"), "utf8");
    expect(ci).to.match(/^npm test$/m);
  });

  it("names every fault-matrix test in the fault matrix table", () => {
    const tests = fs.readFileSync(path.resolve(__dirname, "local", "fault-matrix.test.ts"), "utf8");
    const names = [...tests.matchAll(/^ {2}it\("(\d+[a-z]?\. [^"]+)"/gm)].map((m) => m[1]);
    expect(names.length).to.be.greaterThan(15);
    expect(names.filter((n) => !README.includes(`| ${n} |`))).to.deep.equal([]);
  });
});
