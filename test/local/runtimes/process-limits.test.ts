import { expect } from "chai";
import { sampleProcess } from "../../../local/runtimes/process-limits";

describe("sampleProcess (/proc)", () => {
  before(function () {
    if (process.platform !== "linux") this.skip();
  });

  it("reads a process's resident memory and CPU time as the kernel accounts them", () => {
    const before = sampleProcess(process.pid)!;
    let spin = 0;
    const until = process.cpuUsage().user + 60_000;
    while (process.cpuUsage().user < until) spin += 1;
    const after = sampleProcess(process.pid)!;
    const rssMb = process.memoryUsage().rss / (1024 * 1024);

    // The kernel counts CPU in clock ticks (10 ms): 60 ms spent shows as at least 40 ms.
    expect(after.cpuMs - before.cpuMs, `spun ${spin} times`).to.be.at.least(40);
    expect(after.rssMb).to.be.closeTo(rssMb, Math.max(16, rssMb * 0.1));
  });

  it("answers undefined for a process that is not there", () => {
    expect(sampleProcess(2 ** 22 + 12345)).to.equal(undefined);
    expect(sampleProcess(undefined)).to.equal(undefined);
  });
});
