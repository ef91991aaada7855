import FakeTimers from "@sinonjs/fake-timers";
import { setTimeout as sleep } from "node:timers/promises";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { EXIT_CODES, readWatchdogConfig, run, WorkerClock } from "../../../containers/export-worker/worker";
import type { Log } from "../../../handlers/export/logger";
import { catalogueDocument } from "../../../scripts/generate-documents";
import { BUCKET, fakeS3, pdfPageCount, putDocument, sdkBody } from "../../handlers/export/fakes";

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

function recorder(): { log: Log; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => lines.push({ level, message, ...extra });
  return { lines, log: { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") } as unknown as Log };
}

function setup() {
  const { s3, objects, mock: s3Mock } = fakeS3();
  putDocument(objects, "docs/catalogue.json", catalogueDocument(40));
  const sfn = new SFNClient({ region: "eu-west-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
  const sfnMock = mockClient(sfn);
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  sfnMock.on(SendTaskHeartbeatCommand).resolves({});
  const { log, lines } = recorder();
  return { s3, objects, s3Mock, sfn, sfnMock, log, lines };
}

const JOB = { formatVersion: 1, jobId: "job-42", documentKey: "docs/catalogue.json", format: "pdf" };
const ENV = { TASK_TOKEN: "token-1", EXPORT_JOB: JSON.stringify(JOB), DOCUMENTS_BUCKET: BUCKET };

/** Delays every GetObject, so the job takes long enough for heartbeats. */
function slowGets(s3Mock: ReturnType<typeof setup>["s3Mock"], objects: ReturnType<typeof setup>["objects"], ms: number): void {
  s3Mock.on(GetObjectCommand).callsFake(async (input) => {
    await sleep(ms);
    return { Body: sdkBody(objects.get(input.Key)!.body) };
  });
}

/** Real turns of the event loop for the work to run, while the worker's own clock stands still. */
const pause = (ms = 2): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The worker's clock in the watchdog tests: a fake one (@sinonjs/fake-timers) handed to `run`, moved by hand. It
 * replaces no global, so nothing else in the test process — a local cloud booting in the background — sees it.
 */
let fake: FakeTimers.Clock;
const clock = (): WorkerClock => ({
  now: () => fake.now,
  setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
  clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
  setInterval: (callback, ms) => fake.setInterval(callback, ms),
  clearInterval: (handle) => fake.clearInterval(handle as FakeTimers.TimerId),
});

/**
 * A GetObject body the test feeds by hand, so the job is provably idle between chunks. destroy() — what the worker
 * does to a download when it stops the work — fails a pending read, as it does a Readable's.
 */
function handFedBody() {
  const queue: Buffer[] = [];
  let ended = false;
  let destroyed = false;
  let pending: { resolve: (result: IteratorResult<Buffer>) => void; reject: (error: Error) => void } | undefined;
  let waiters: Array<() => void> = [];
  return {
    /** Whether destroy() is offered: a body without it stands for a read the worker cannot interrupt. */
    destroyable: true,
    get destroyed() {
      return destroyed;
    },
    push(chunk: Buffer): void {
      if (pending === undefined) return void queue.push(chunk);
      pending.resolve({ value: chunk, done: false });
      pending = undefined;
    },
    end(): void {
      ended = true;
      pending?.resolve({ value: undefined, done: true });
      pending = undefined;
    },
    destroy(): void {
      destroyed = true;
      pending?.reject(Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
      pending = undefined;
      for (const waiter of waiters) waiter();
      waiters = [];
    },
    /** Resolves once the reader has taken everything pushed and waits for more (or the body is destroyed). */
    waiting(): Promise<void> {
      if (pending !== undefined || destroyed) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    [Symbol.asyncIterator](): AsyncIterator<Buffer> {
      return {
        next: () => {
          if (destroyed) return Promise.reject(new Error("Premature close"));
          if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
          if (ended) return Promise.resolve({ value: undefined, done: true });
          const read = new Promise<IteratorResult<Buffer>>((resolve, reject) => (pending = { resolve, reject }));
          for (const waiter of waiters) waiter();
          waiters = [];
          return read;
        },
        return: async () => ({ value: undefined, done: true }),
      };
    },
  };
}

/**
 * One read of the document hand-fed: by default the second (the rendering one), the first (the scan that counts the
 * pages) as stored.
 */
function handFeedRendering(s3Mock: ReturnType<typeof setup>["s3Mock"], objects: ReturnType<typeof setup>["objects"], read: 1 | 2 = 2) {
  const body = handFedBody();
  let reads = 0;
  s3Mock.on(GetObjectCommand).callsFake(async (input) => {
    if (++reads !== read) return { Body: sdkBody(objects.get(input.Key)!.body) };
    return { Body: body.destroyable ? body : { [Symbol.asyncIterator]: () => body[Symbol.asyncIterator]() } };
  });
  const bytes = objects.get(JOB.documentKey)!.body;
  /** The document's bytes in `n` slices. */
  const slices = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => bytes.subarray(Math.floor((i * bytes.length) / n), Math.floor(((i + 1) * bytes.length) / n)));
  return { body, slices };
}

/** Settles `promise` while moving the mocked clock on by `stepMs` per real turn of the event loop (at most `maxSteps`). */
async function drive<T>(promise: Promise<T>, stepMs: number, maxSteps = 200): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => (settled = true));
  for (let step = 0; step < maxSteps && !settled; step++) {
    await pause();
    if (!settled) fake.tick(stepMs);
  }
  if (!settled) throw new Error(`still running after ${(maxSteps * stepMs) / 1000} s of mocked time`);
  return watched;
}

/** Moves the mocked clock on, then lets what that started (a heartbeat's answer) run. */
async function advance(ms: number): Promise<void> {
  fake.tick(ms);
  await pause();
}

const START = Date.parse("2026-01-01T00:00:00.000Z");

describe("export worker", () => {
  it("exports the document, logs progress as pages are done and reports SendTaskSuccess", async () => {
    const { s3, objects, sfn, sfnMock, log, lines } = setup();
    const code = await run(ENV, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.success);
    const stored = objects.get("exports/job-42.pdf")!;
    expect(await pdfPageCount(stored.body)).to.equal(40);
    expect(stored.metadata).to.deep.equal({ "format-version": "1", "job-id": "job-42", pages: "40", runtime: "fargate" });
    const success = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(success).to.have.length(1);
    expect(success[0].args[0].input.taskToken).to.equal("token-1");
    expect(JSON.parse(success[0].args[0].input.output!)).to.deep.equal({
      formatVersion: 1,
      jobId: "job-42",
      outputKey: "exports/job-42.pdf",
      pages: 40,
      bytes: stored.body.length,
      runtime: "fargate",
    });
    const progress = lines.filter((line) => line.message === "progress").map((line) => line.pagesDone);
    expect(progress).to.deep.equal([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40]);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)).to.have.length(0);
  });

  it("reports an invalid document with SendTaskFailure and exits 3", async () => {
    const { s3, objects, sfn, sfnMock, log } = setup();
    putDocument(objects, "docs/catalogue.json", { formatVersion: 2, title: "t", pageSize: { width: 1, height: 1 }, pages: [{ elements: [{ type: "rect" }] }] });
    const code = await run(ENV, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.invalidDocument);
    const failure = sfnMock.commandCalls(SendTaskFailureCommand);
    expect(failure).to.have.length(1);
    expect(failure[0].args[0].input).to.deep.equal({
      taskToken: "token-1",
      error: "InvalidDocument",
      cause: `s3://${BUCKET}/docs/catalogue.json: pages[0].elements[0].x: expected a finite number; pages[0].elements[0].y: expected a finite number; pages[0].elements[0].width: expected a finite number (and 1 more problem)`,
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).to.have.length(0);
  });

  it("reports an upload failure with SendTaskFailure, the cause cut to 32,768 characters, and exits 4", async () => {
    const { s3, s3Mock, sfn, sfnMock, log } = setup();
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error("denied ".repeat(6_000)), { name: "AccessDenied" }));
    const code = await run(ENV, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.exportFailed);
    const { input } = sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0];
    expect(input.error).to.equal("AccessDenied");
    expect(input.cause).to.have.length(32_768);
  });

  it("exits 2 and reports InvalidExportRequest when EXPORT_JOB is not JSON", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    const code = await run({ ...ENV, EXPORT_JOB: "{jobId: 42" }, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.badInput);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).to.deep.equal({
      taskToken: "token-1",
      error: "InvalidExportRequest",
      cause: "`EXPORT_JOB` must be set to a JSON object { formatVersion: 1, jobId, documentKey, format }",
    });
  });

  it("exits 2 naming the field when EXPORT_JOB lacks one", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    const { documentKey: _, ...job } = JOB;
    const code = await run({ ...ENV, EXPORT_JOB: JSON.stringify(job) }, { s3, sfn, log });
    expect(code).to.equal(EXIT_CODES.badInput);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause).to.equal("EXPORT_JOB: documentKey: expected a string");
  });

  it("without TASK_TOKEN only exits with its code, calling no Step Functions API", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    const { TASK_TOKEN: _, ...env } = ENV;
    expect(await run(env, { s3, sfn, log })).to.equal(EXIT_CODES.success);
    expect(await run({ ...env, EXPORT_JOB: "" }, { s3, sfn, log })).to.equal(EXIT_CODES.badInput);
    expect(sfnMock.calls()).to.have.length(0);
  });

  it("exits 5 when it cannot report success", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    sfnMock.on(SendTaskSuccessCommand).rejects(Object.assign(new Error("gone"), { name: "InvalidToken" }));
    expect(await run(ENV, { s3, sfn, log })).to.equal(EXIT_CODES.unreported);
  });

  it("exits 5 when it cannot report a failure", async () => {
    const { s3, sfn, sfnMock, log } = setup();
    sfnMock.on(SendTaskFailureCommand).rejects(Object.assign(new Error("throttled"), { name: "ThrottlingException" }));
    expect(await run({ ...ENV, EXPORT_JOB: "nope" }, { s3, sfn, log })).to.equal(EXIT_CODES.unreported);
  });

  it("when stopped (SIGTERM), reports the stop with SendTaskFailure and exits 4", async () => {
    const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
    slowGets(s3Mock, objects, 50);
    const stop = new AbortController();
    setTimeout(() => stop.abort(Object.assign(new Error("ECS stopped the task (SIGTERM)"), { name: "TaskStopped" })), 10);
    expect(await run(ENV, { s3, sfn, log, signal: stop.signal })).to.equal(EXIT_CODES.exportFailed);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).to.include({ error: "TaskStopped", cause: "ECS stopped the task (SIGTERM)" });
  });

  describe("watchdog", () => {
    beforeEach(() => {
      fake = FakeTimers.createClock(START) as FakeTimers.Clock;
    });

    const heartbeats = (sfnMock: ReturnType<typeof setup>["sfnMock"]): number => sfnMock.commandCalls(SendTaskHeartbeatCommand).length;

    it("sends a heartbeat when it starts, then only for an interval in which the job made progress, and none once it is done", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      const [first, second, rest] = slices(3);
      body.push(first);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10", STALL_SECONDS: "60" }, { s3, sfn, log, clock: clock() });
      await body.waiting();
      // Before any interval has passed: the window Step Functions started with the task is renewed at once.
      const counts: number[] = [heartbeats(sfnMock)];
      await advance(10_000);
      counts.push(heartbeats(sfnMock));
      await advance(10_000);
      counts.push(heartbeats(sfnMock));
      body.push(second);
      await body.waiting();
      await advance(10_000);
      counts.push(heartbeats(sfnMock));
      await advance(10_000);
      await advance(10_000);
      counts.push(heartbeats(sfnMock));
      expect(counts).to.deep.equal([1, 2, 2, 3, 3]);
      body.push(rest);
      body.end();
      expect(await drive(running, 0)).to.equal(EXIT_CODES.success);
      // The last pages were progress: a heartbeat timer left running would send one more.
      await advance(60_000);
      expect(heartbeats(sfnMock)).to.equal(3);
      expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)[0].args[0].input).to.deep.equal({ taskToken: "token-1" });
    });

    it("counts a slow download as progress: a scan that reads a slice per 10 s for longer than STALL_SECONDS succeeds", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects, 1);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10", STALL_SECONDS: "20" }, { s3, sfn, log, clock: clock() });
      for (const slice of slices(6)) {
        await body.waiting();
        await advance(10_000);
        body.push(slice);
      }
      body.end();
      expect(await drive(running, 0)).to.equal(EXIT_CODES.success);
      expect(fake.now - START).to.equal(60_000);
      expect(heartbeats(sfnMock)).to.equal(7);
    });

    it("reports WorkerStalled and exits 4 when a download stops yielding for STALL_SECONDS (default 3 × HEARTBEAT_SECONDS)", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      body.push(slices(2)[0]);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10" }, { s3, sfn, log, clock: clock() });
      await body.waiting();
      const code = await drive(running, 1_000);
      expect(code).to.equal(EXIT_CODES.exportFailed);
      const failure = sfnMock.commandCalls(SendTaskFailureCommand);
      expect(failure).to.have.length(1);
      const { error, cause } = failure[0].args[0].input;
      expect(error).to.equal("WorkerStalled");
      const match = /^no progress for 30 s \(STALL_SECONDS\); last progress at (\S+): (\d+) of 40 pages done$/.exec(cause!);
      expect(match, cause).to.not.equal(null);
      expect(fake.now - Date.parse(match![1])).to.be.within(30_000, 31_000);
      expect(Number(match![2])).to.be.within(1, 39);
      expect(body.destroyed).to.equal(true);
      // The one at the start and the one for the interval with progress; none while stalled.
      expect(heartbeats(sfnMock)).to.equal(2);
      expect(objects.has("exports/job-42.pdf")).to.equal(false);
      expect(sfnMock.commandCalls(SendTaskSuccessCommand)).to.have.length(0);
    });

    it("reports WorkerStalled without waiting more than 5 s for a read it cannot interrupt", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log, lines } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      body.destroyable = false;
      body.push(slices(2)[0]);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10" }, { s3, sfn, log, clock: clock() });
      await body.waiting();
      expect(await drive(running, 1_000)).to.equal(EXIT_CODES.exportFailed);
      expect(fake.now - START).to.equal(35_000);
      expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input.error).to.equal("WorkerStalled");
      expect(lines.some((line) => line.message === "the work did not stop in time; reporting without waiting for it")).to.equal(true);
    });

    it("without TASK_TOKEN, still ends a stalled job with exit 4, calling no Step Functions API", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      body.push(slices(2)[0]);
      const { TASK_TOKEN: _, ...env } = ENV;
      const running = run({ ...env, STALL_SECONDS: "10" }, { s3, sfn, log, clock: clock() });
      await body.waiting();
      expect(await drive(running, 1_000)).to.equal(EXIT_CODES.exportFailed);
      expect(sfnMock.calls()).to.have.length(0);
    });

    it("reports WorkerDeadlineExceeded and exits 4 at DEADLINE_SECONDS, though the job keeps making progress", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10", DEADLINE_SECONDS: "60" }, { s3, sfn, log, clock: clock() });
      let settled = false;
      void running.finally(() => (settled = true));
      for (const slice of slices(20)) {
        body.push(slice);
        await body.waiting();
        if (settled || body.destroyed) break;
        await advance(10_000);
      }
      expect(await drive(running, 0)).to.equal(EXIT_CODES.exportFailed);
      expect(fake.now - START).to.equal(60_000);
      const { error, cause } = sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input;
      expect(error).to.equal("WorkerDeadlineExceeded");
      expect(cause).to.match(/^the job ran for 60 s \(DEADLINE_SECONDS\) without finishing: \d+ of 40 pages done$/);
      expect(heartbeats(sfnMock)).to.be.at.least(6);
      expect(body.destroyed).to.equal(true);
    });

    it("stops a waiting job at once and exits 5, reporting nothing, when a heartbeat is answered TaskTimedOut", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log, lines } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      sfnMock.on(SendTaskHeartbeatCommand).resolvesOnce({}).rejects(Object.assign(new Error("Task Timed Out"), { name: "TaskTimedOut" }));
      body.push(slices(2)[0]);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10" }, { s3, sfn, log, clock: clock() });
      await body.waiting();
      await advance(10_000);
      expect(await drive(running, 0)).to.equal(EXIT_CODES.unreported);
      expect(fake.now - START).to.equal(10_000);
      expect(body.destroyed).to.equal(true);
      expect(heartbeats(sfnMock)).to.equal(2);
      expect(sfnMock.commandCalls(SendTaskFailureCommand)).to.have.length(0);
      expect(sfnMock.commandCalls(SendTaskSuccessCommand)).to.have.length(0);
      expect(objects.has("exports/job-42.pdf")).to.equal(false);
      expect(lines.some((line) => line.message === "stopped: the task token is no longer valid")).to.equal(true);
    });

    it("keeps working through a heartbeat that fails for another reason", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log, lines } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      sfnMock.on(SendTaskHeartbeatCommand).rejectsOnce(Object.assign(new Error("slow down"), { name: "ThrottlingException" })).resolves({});
      const [first, second, rest] = slices(3);
      body.push(first);
      const running = run({ ...ENV, HEARTBEAT_SECONDS: "10" }, { s3, sfn, log, clock: clock() });
      await body.waiting();
      await advance(10_000);
      body.push(second);
      await body.waiting();
      await advance(10_000);
      body.push(rest);
      body.end();
      expect(await drive(running, 0)).to.equal(EXIT_CODES.success);
      // The first (at the start) was throttled; both intervals with progress still sent theirs.
      expect(heartbeats(sfnMock)).to.equal(3);
      expect(lines.some((line) => line.level === "WARN" && line.error === "ThrottlingException")).to.equal(true);
    });

    it("when stopped (SIGTERM) during a stalled download, reports TaskStopped and exits 4 without waiting", async () => {
      const { s3, objects, s3Mock, sfn, sfnMock, log } = setup();
      const { body, slices } = handFeedRendering(s3Mock, objects);
      body.push(slices(2)[0]);
      const stop = new AbortController();
      const running = run(ENV, { s3, sfn, log, signal: stop.signal, clock: clock() });
      await body.waiting();
      stop.abort(Object.assign(new Error("ECS stopped the task (SIGTERM)"), { name: "TaskStopped" }));
      expect(await drive(running, 0)).to.equal(EXIT_CODES.exportFailed);
      expect(fake.now).to.equal(START);
      expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).to.include({ error: "TaskStopped" });
    });
  });

  describe("watchdog configuration", () => {
    it("defaults to heartbeats every 60 s, a stall after 3 × HEARTBEAT_SECONDS within 10–3,600 s, and no deadline", () => {
      expect(readWatchdogConfig({})).to.deep.equal({ heartbeatMs: 60_000, stallMs: 180_000 });
      expect(readWatchdogConfig({ HEARTBEAT_SECONDS: "1" })).to.deep.equal({ heartbeatMs: 1_000, stallMs: 10_000 });
      expect(readWatchdogConfig({ HEARTBEAT_SECONDS: "3600" })).to.deep.equal({ heartbeatMs: 3_600_000, stallMs: 3_600_000 });
      expect(readWatchdogConfig({ HEARTBEAT_SECONDS: "30", STALL_SECONDS: "600", DEADLINE_SECONDS: "86400" })).to.deep.equal({
        heartbeatMs: 30_000,
        stallMs: 600_000,
        deadlineMs: 86_400_000,
      });
    });

    const invalid: Array<[string, string, string]> = [
      ["STALL_SECONDS", "9", "`STALL_SECONDS` must be a number of seconds from 10 to 3600 (got \"9\")"],
      ["STALL_SECONDS", "3601", "`STALL_SECONDS` must be a number of seconds from 10 to 3600 (got \"3601\")"],
      ["STALL_SECONDS", "2m", "`STALL_SECONDS` must be a number of seconds from 10 to 3600 (got \"2m\")"],
      ["DEADLINE_SECONDS", "59", "`DEADLINE_SECONDS` must be a number of seconds from 60 to 86400 (got \"59\")"],
      ["DEADLINE_SECONDS", "86401", "`DEADLINE_SECONDS` must be a number of seconds from 60 to 86400 (got \"86401\")"],
      ["DEADLINE_SECONDS", "1h", "`DEADLINE_SECONDS` must be a number of seconds from 60 to 86400 (got \"1h\")"],
    ];
    for (const [name, value, message] of invalid) {
      it(`exits 2 naming ${name} when it is ${JSON.stringify(value)}`, async () => {
        const { s3, s3Mock, sfn, sfnMock, log } = setup();
        expect(await run({ ...ENV, [name]: value }, { s3, sfn, log, clock: clock() })).to.equal(EXIT_CODES.badInput);
        expect(sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input).to.deep.equal({ taskToken: "token-1", error: "Error", cause: message });
        expect(s3Mock.calls()).to.have.length(0);
      });
    }
  });
});
