import { expect } from "chai";
import { DEFAULT_SIZING, parseSettings } from "../../infra/config";
import { stackSettings } from "../stacks";

const minimal = { paymentGatewayUrl: "https://gateway.example.com" };

describe("stack config", () => {
  it("dev and prod size the heavy exporter and the payment step differently", () => {
    const dev = stackSettings("dev");
    const prod = stackSettings("prod");
    expect(dev.functions.exportPdf).to.deep.equal({ memoryMb: 352, timeoutSeconds: 780 });
    expect(prod.functions.exportPdf).to.deep.equal({ memoryMb: 384, timeoutSeconds: 780, reservedConcurrency: 50 });
    expect(dev.functions.paymentProcessing).to.deep.equal({ memoryMb: 256, timeoutSeconds: 15 });
    expect(prod.functions.paymentProcessing).to.deep.equal({ memoryMb: 512, timeoutSeconds: 20, reservedConcurrency: 100, provisionedConcurrency: 5 });
    expect([dev.logRetentionDays, prod.logRetentionDays]).to.deep.equal([14, 365]);
    expect([dev.fargateNetwork, prod.fargateNetwork]).to.deep.equal(["public", "private"]);
    expect(dev.paymentGatewayUrl).to.not.equal(prod.paymentGatewayUrl);
    expect(dev.alarmEmail).to.not.equal(prod.alarmEmail);
  });

  it("sizes the SVG exporter below the PDF exporter in every stack", () => {
    for (const stack of ["dev", "prod"]) {
      const s = stackSettings(stack);
      expect(s.functions.exportSvg.memoryMb, stack).to.be.below(s.functions.exportPdf.memoryMb);
    }
  });

  it("fills unset functions with the defaults", () => {
    const s = parseSettings(minimal);
    expect(s.functions).to.deep.equal(DEFAULT_SIZING);
    expect(s.exportSecondsPerPagePdf).to.equal(30);
    expect(s.exportLambdaBudgetSeconds).to.equal(720);
  });

  it("names the key of an out-of-range memory size", () => {
    expect(() => parseSettings({ ...minimal, functions: { exportPdf: { memoryMb: 64 } } })).to.throw("`functions.exportPdf.memoryMb`");
  });

  it("refuses a Lambda timeout past 15 minutes", () => {
    expect(() => parseSettings({ ...minimal, functions: { exportPdf: { timeoutSeconds: 901 } } })).to.throw("`functions.exportPdf.timeoutSeconds`");
  });

  it("refuses unknown keys and unknown functions", () => {
    expect(() => parseSettings({ ...minimal, memory: 3 })).to.throw("invalid stack config");
    expect(() => parseSettings({ ...minimal, functions: { exporter: { memoryMb: 256 } } })).to.throw("`functions`: Unrecognized key: \"exporter\"");
  });

  it("refuses a retention CloudWatch does not offer", () => {
    expect(() => parseSettings({ ...minimal, logRetentionDays: 10 })).to.throw("`logRetentionDays`: must be one of CloudWatch's retention values");
  });

  it("requires the gateway timeout to be below the payment function's timeout", () => {
    expect(() => parseSettings({ ...minimal, paymentTimeoutMs: 15_000 })).to.throw("`paymentTimeoutMs` (15000) must be below `functions.paymentProcessing.timeoutSeconds` (15 s)");
  });

  it("requires exporter timeouts to cover the Lambda budget", () => {
    expect(() => parseSettings({ ...minimal, exportLambdaBudgetSeconds: 800 })).to.throw("`functions.exportSvg.timeoutSeconds` (780) must be at least `exportLambdaBudgetSeconds` (800)");
  });

  it("refuses a Fargate CPU/memory pair Fargate does not offer", () => {
    expect(() => parseSettings({ ...minimal, fargateCpu: 256, fargateMemoryMb: 4096 })).to.throw("`fargateMemoryMb` 4096 is not valid with `fargateCpu` 256");
  });

  it("requires the longest export path (Lambda attempt, then Fargate) to end inside the execution timeout", () => {
    expect(() => parseSettings({ ...minimal, fargateTimeoutSeconds: 14_000 })).to.throw(
      "`exportWorkflowTimeoutSeconds` (14400) must cover the longest export path, 14950 s",
    );
  });

  it("requires the gateway URL", () => {
    expect(() => parseSettings({})).to.throw("`paymentGatewayUrl`");
  });
});
