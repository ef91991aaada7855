import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { contextFiles, imageDigest } from "../../../../local/runtimes/ecs/image-context";

/** A project folder with a Dockerfile in `container/`, a source file, an ignored file and the local cloud's state. */
function project(): { dir: string; dockerfile: string; write: (rel: string, text: string) => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-context-"));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  write("container/Dockerfile", "FROM node:24-slim\nCMD [\"node\", \"main.mjs\"]\n");
  write("container/worker.mjs", "export {};\n");
  write("notes.txt", "not an input\n");
  write(".dockerignore", "notes.txt\n");
  write(".local/images/container-0123/main.mjs", "built\n");
  return { dir, dockerfile: path.join(dir, "container", "Dockerfile"), write };
}

describe("image build context (local/runtimes/ecs/image-context.ts)", () => {
  const made: string[] = [];
  after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it("lists what docker build would send: every file its .dockerignore keeps, the local cloud's state folder too", () => {
    const p = project();
    made.push(p.dir);
    expect(contextFiles(p.dir, p.dockerfile)).to.deep.equal([".dockerignore", ".local/images/container-0123/main.mjs", "container/Dockerfile", "container/worker.mjs"]);
    expect(contextFiles(p.dir, p.dockerfile, [".local"])).to.deep.equal([".dockerignore", "container/Dockerfile", "container/worker.mjs"]);
  });

  it("keeps an image's digest while the local cloud writes its state, and changes it with a source file or the Dockerfile", () => {
    const p = project();
    made.push(p.dir);
    const first = imageDigest(p.dir, p.dockerfile);

    // GIVEN a boot that built an image and functions that filled the compile cache
    p.write(".local/images/container-4567/main.mjs", "built again\n");
    p.write(".local/compile-cache/v24/abc.tmp", "cache\n");
    p.write("notes.txt", "still not an input\n");
    // THEN the next boot finds the same image
    expect(imageDigest(p.dir, p.dockerfile)).to.equal(first);

    p.write("container/worker.mjs", "export const changed = true;\n");
    const afterSource = imageDigest(p.dir, p.dockerfile);
    expect(afterSource).to.not.equal(first);
    p.write("container/Dockerfile", "FROM node:24-slim\nUSER 1000:1000\nCMD [\"node\", \"main.mjs\"]\n");
    expect(imageDigest(p.dir, p.dockerfile)).to.not.equal(afterSource);
  });
});
