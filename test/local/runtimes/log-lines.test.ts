import { expect } from "chai";
import { PassThrough } from "node:stream";
import { onLines } from "../../../local/runtimes/log-lines";

/** Writes each chunk in its own turn, as a pipe delivers them, and collects the lines `onLines` reports. */
async function linesOf(chunks: readonly string[]): Promise<string[]> {
  const stream = new PassThrough();
  const lines: string[] = [];
  onLines(stream, (line) => lines.push(line));
  for (const chunk of chunks) {
    stream.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return lines;
}

describe("onLines (a function's or container's output, line by line)", () => {
  it("reports each line of a chunk, without its newline, and skips blank lines", async () => {
    expect(await linesOf(["one\ntwo\n\n  \nthree\n"])).to.deep.equal(["one", "two", "three"]);
  });

  it("joins a line that arrives in many chunks, and reports it only once its newline has come", async () => {
    const long = "x".repeat(200_000);
    const pieces = [long.slice(0, 65_536), long.slice(65_536, 131_072), long.slice(131_072)];
    expect(await linesOf([`first\n${pieces[0]}`, pieces[1]!, pieces[2]!])).to.deep.equal(["first"]);
    expect(await linesOf([`first\n${pieces[0]}`, pieces[1]!, `${pieces[2]}\nlast`, "\n"])).to.deep.equal(["first", long, "last"]);
  });

  it("keeps a multi-byte character split between two chunks whole", async () => {
    const bytes = Buffer.from('{"city":"Zürich"}\n');
    const split = bytes.indexOf(0xc3) + 1;
    const stream = new PassThrough();
    const lines: string[] = [];
    onLines(stream, (line) => lines.push(line));
    stream.write(bytes.subarray(0, split));
    await new Promise((resolve) => setImmediate(resolve));
    stream.write(bytes.subarray(split));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).to.deep.equal(['{"city":"Zürich"}']);
  });
});
