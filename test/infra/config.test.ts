import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { DEFAULT_SIZING, parseSettings, readPaymentGatewayKey, readSettings } from "../../infra/config";
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
    expect([dev.forceDestroy, prod.forceDestroy]).to.deep.equal([true, false]);
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

  it("keeps data on destroy unless a stack sets forceDestroy, and accepts only a boolean there", () => {
    expect(parseSettings(minimal).forceDestroy).to.equal(false);
    expect(parseSettings({ ...minimal, forceDestroy: true }).forceDestroy).to.equal(true);
    expect(() => parseSettings({ ...minimal, forceDestroy: "yes" })).to.throw("invalid stack config: `forceDestroy`: Invalid input: expected boolean, received string");
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

  it("names an unknown top-level key against the config itself, and lists every problem at once", () => {
    expect(() => parseSettings({ ...minimal, memory: 3 })).to.throw('invalid stack config: `(config)`: Unrecognized key: "memory"');
    expect(() => parseSettings({ ...minimal, logRetentionDays: 10, currency: "eur" })).to.throw(
      "invalid stack config: `logRetentionDays`: must be one of CloudWatch's retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653; `currency`: must be an ISO 4217 code such as EUR",
    );
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
      "`exportWorkflowTimeoutSeconds` (14400) must cover the longest export path, 14990 s (job status ×2 + estimate + the slower exporter's timeout, each Task with Lambda's 10 s init limit on top, + `fargateTimeoutSeconds` + 120 s margin)",
    );
  });

  describe("every cross-field rule holds at its bound and refuses one past it", () => {
    const ok = (raw: Record<string, unknown>) => expect(() => parseSettings({ ...minimal, ...raw }), JSON.stringify(raw)).to.not.throw();
    const refused = (raw: Record<string, unknown>, message: string) => expect(() => parseSettings({ ...minimal, ...raw }), JSON.stringify(raw)).to.throw(message);

    it("the gateway timeout stays below the payment function's timeout", () => {
      ok({ paymentTimeoutMs: 14_999 });
      refused({ paymentTimeoutMs: 15_000 }, "`paymentTimeoutMs` (15000) must be below `functions.paymentProcessing.timeoutSeconds` (15 s)");
    });

    it("each exporter's timeout covers the Lambda budget", () => {
      ok({ exportLambdaBudgetSeconds: 780 });
      refused({ functions: { exportPdf: { timeoutSeconds: 779 } }, exportLambdaBudgetSeconds: 780 }, "`functions.exportPdf.timeoutSeconds` (779) must be at least `exportLambdaBudgetSeconds` (780)");
      refused({ functions: { exportSvg: { timeoutSeconds: 779 } }, exportLambdaBudgetSeconds: 780 }, "`functions.exportSvg.timeoutSeconds` (779) must be at least `exportLambdaBudgetSeconds` (780)");
    });

    it("the heartbeat window is below the Fargate timeout", () => {
      ok({ fargateStartupAllowanceSeconds: 0, fargateHeartbeatSeconds: 300, fargateTimeoutSeconds: 301 });
      refused({ fargateStartupAllowanceSeconds: 0, fargateHeartbeatSeconds: 300, fargateTimeoutSeconds: 300 }, "`fargateHeartbeatSeconds` must be below `fargateTimeoutSeconds`");
    });

    it("the heartbeat window covers the Fargate start-up allowance plus one heartbeat interval", () => {
      // 179 s: an interval of 59 s, 120 + 59 = 179.
      ok({ fargateStartupAllowanceSeconds: 120, fargateHeartbeatSeconds: 179 });
      refused(
        { fargateStartupAllowanceSeconds: 120, fargateHeartbeatSeconds: 178 },
        "`fargateHeartbeatSeconds` (178) must cover `fargateStartupAllowanceSeconds` (120) plus one heartbeat interval (59 s, a third of the window): 179 s at least",
      );
    });

    it("the Fargate timeout leaves the worker a minute after its start-up allowance", () => {
      ok({ fargateStartupAllowanceSeconds: 30, fargateHeartbeatSeconds: 60, fargateTimeoutSeconds: 90 });
      refused({ fargateStartupAllowanceSeconds: 30, fargateHeartbeatSeconds: 60, fargateTimeoutSeconds: 89 }, "`fargateTimeoutSeconds` (89) must leave the worker at least 60 s after `fargateStartupAllowanceSeconds` (30)");
    });

    it("the longest export path ends inside the execution timeout", () => {
      // Each Lambda Task at its function's timeout + 10 s (Lambda's init limit): job status ×2 (20 s) + estimate
      // (40 s) + the slower exporter (790 s) + Fargate + 120 s = 990 s + Fargate.
      ok({ fargateTimeoutSeconds: 13_410 });
      refused({ fargateTimeoutSeconds: 13_411 }, "`exportWorkflowTimeoutSeconds` (14400) must cover the longest export path, 14401 s");
    });

    it("the longest export path counts the slower exporter, whichever it is", () => {
      // With one exporter at 900 s: 40 + 40 + 910 + Fargate + 120 = 1,110 s + Fargate.
      for (const slower of ["exportSvg", "exportPdf"]) {
        ok({ functions: { [slower]: { timeoutSeconds: 900 } }, fargateTimeoutSeconds: 13_290 });
        refused({ functions: { [slower]: { timeoutSeconds: 900 } }, fargateTimeoutSeconds: 13_291 }, "`exportWorkflowTimeoutSeconds` (14400) must cover the longest export path, 14401 s");
      }
    });

    it("the Fargate CPU and memory are a pair Fargate offers", () => {
      ok({ fargateCpu: 256, fargateMemoryMb: 2048 });
      refused({ fargateCpu: 256, fargateMemoryMb: 1536 }, "`fargateMemoryMb` 1536 is not valid with `fargateCpu` 256");
      ok({ fargateCpu: 1024, fargateMemoryMb: 8192 });
      refused({ fargateCpu: 1024, fargateMemoryMb: 9216 }, "`fargateMemoryMb` 9216 is not valid with `fargateCpu` 1024 (Fargate allows 2048–8192 MB in steps of 1024)");
      refused({ fargateCpu: 2048, fargateMemoryMb: 4608 }, "`fargateMemoryMb` 4608 is not valid with `fargateCpu` 2048");
      refused({ fargateCpu: 1024, fargateMemoryMb: 1024 }, "`fargateMemoryMb` 1024 is not valid with `fargateCpu` 1024 (Fargate allows 2048–8192 MB in steps of 1024)");
      ok({ fargateCpu: 1024, fargateMemoryMb: 2048 });
    });
  });

  it("requires the gateway URL", () => {
    expect(() => parseSettings({})).to.throw("`paymentGatewayUrl`");
  });

  it("reads each setting through the stack's config, parsing structured values", () => {
    const values: Record<string, string> = { paymentGatewayUrl: "https://gateway.example.com", logRetentionDays: "30", functions: '{"exportPdf":{"memoryMb":512}}' };
    const config = { get: (key: string) => values[key] } as unknown as pulumi.Config;

    const settings = readSettings(config);

    expect([settings.paymentGatewayUrl, settings.logRetentionDays, settings.functions.exportPdf]).to.deep.equal([
      "https://gateway.example.com",
      30,
      { memoryMb: 512, timeoutSeconds: 780 },
    ]);
  });

  it("reads the gateway key as the secret paymentGatewayKey", () => {
    const asked: string[] = [];
    const config = { requireSecret: (key: string) => (asked.push(key), pulumi.secret("sk")) } as unknown as pulumi.Config;

    readPaymentGatewayKey(config);

    expect(asked).to.deep.equal(["paymentGatewayKey"]);
  });
});
