import * as pulumi from "@pulumi/pulumi";
// Namespace import: lets esbuild drop the parts of zod a bundle does not use (≈90 KB instead of ≈450 KB).
import * as z from "zod";

/**
 * Stack configuration: the only input of the program besides the code. `parseSettings` is pure (tested without
 * mocks); `readSettings` reads `Pulumi.<stack>.yaml` through pulumi.Config. Every limit is named in its message.
 */

/** Every function the program deploys, by config key. Sizing lives in `functions.<key>` in the stack config. */
export const FUNCTION_KEYS = [
  "orderPlacement",
  "paymentProcessing",
  "inventoryManagement",
  "shipping",
  "notification",
  "handlePaymentFailure",
  "refundPayment",
  "releaseInventory",
  "cancelOrder",
  "exportEstimate",
  "exportSvg",
  "exportPdf",
  "exportSplit",
  "exportCombine",
  "exportJobStatus",
] as const;
export type FunctionKey = (typeof FUNCTION_KEYS)[number];

const sizing = z
  .object({
    memoryMb: z.number().int().min(128).max(10240),
    timeoutSeconds: z.number().int().min(1).max(900),
    reservedConcurrency: z.number().int().min(1).optional(),
    provisionedConcurrency: z.number().int().min(0).optional(),
  })
  .strict();
export type FunctionSizing = z.infer<typeof sizing>;

/**
 * Defaults per function. Exporter sizes follow bench/exporters.ts: the smallest size ≥ 1.2 × the peak RSS measured at
 * the document cap (3,278 pages, 16 MiB), which keeps each within 1.5 × its measured peak.
 */
export const DEFAULT_SIZING: Record<FunctionKey, FunctionSizing> = {
  orderPlacement: { memoryMb: 256, timeoutSeconds: 10 },
  paymentProcessing: { memoryMb: 256, timeoutSeconds: 15 },
  inventoryManagement: { memoryMb: 256, timeoutSeconds: 10 },
  shipping: { memoryMb: 256, timeoutSeconds: 10 },
  notification: { memoryMb: 256, timeoutSeconds: 10 },
  handlePaymentFailure: { memoryMb: 256, timeoutSeconds: 10 },
  refundPayment: { memoryMb: 256, timeoutSeconds: 15 },
  releaseInventory: { memoryMb: 256, timeoutSeconds: 10 },
  cancelOrder: { memoryMb: 256, timeoutSeconds: 10 },
  exportEstimate: { memoryMb: 192, timeoutSeconds: 30 },
  exportSvg: { memoryMb: 208, timeoutSeconds: 780 },
  exportPdf: { memoryMb: 352, timeoutSeconds: 780 },
  exportSplit: { memoryMb: 256, timeoutSeconds: 30 },
  exportCombine: { memoryMb: 256, timeoutSeconds: 600 },
  exportJobStatus: { memoryMb: 256, timeoutSeconds: 10 },
};

const countryCode = z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 code such as DE");

const settingsSchema = z
  .object({
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => CLOUDWATCH_RETENTION_DAYS.includes(d), `must be one of CloudWatch's retention values: ${"1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"}`)
      .default(14),
    logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
    alarmEmail: z.email().optional(),
    paymentGatewayUrl: z.url({ protocol: /^https?$/ }),
    paymentTimeoutMs: z.number().int().min(100).max(30_000).default(5000),
    currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as EUR").default("EUR"),
    supportedShipCountries: z.array(countryCode).min(1).default(["DE", "FR", "NL", "GB", "US"]),
    orderWorkflowTimeoutSeconds: z.number().int().min(60).max(86_400).default(900),
    functions: z.partialRecord(z.enum(FUNCTION_KEYS), sizing.partial()).default({}),
    exportSecondsPerPageSvg: z.number().positive().max(900).default(0.5),
    exportSecondsPerPagePdf: z.number().positive().max(900).default(30),
    exportLambdaBudgetSeconds: z.number().int().min(10).max(840).default(720),
    // An inline Map runs at most 40 iterations at once (Step Functions, "Using Map state in Inline mode").
    exportMapMaxConcurrency: z.number().int().min(1).max(40).default(10),
    exportRetentionDays: z.number().int().min(1).max(3650).default(30),
    exportWorkflowTimeoutSeconds: z.number().int().min(300).max(86_400).default(14_400),
    fargateCpu: z.number().int().refine((v) => [256, 512, 1024, 2048, 4096].includes(v), "must be 256, 512, 1024, 2048 or 4096 (CPU units)").default(1024),
    fargateMemoryMb: z.number().int().min(512).max(30_720).default(2048),
    fargateNetwork: z.enum(["private", "public"]).default("public"),
    fargateHeartbeatSeconds: z.number().int().min(10).max(3600).default(240),
    fargateStartupAllowanceSeconds: z.number().int().min(0).max(1800).default(120),
    fargateTimeoutSeconds: z.number().int().min(60).max(86_400).default(10_800),
    // Whether `pulumi destroy` may delete what holds data: the tables (otherwise under DynamoDB's deletion protection),
    // the documents bucket (every object version) and the worker's image repository. Off unless a stack asks for it,
    // so no stack loses data by omission.
    forceDestroy: z.boolean().default(false),
  })
  .strict();

/** CloudWatch Logs accepts only these retention periods. */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Slack for state transitions and retries on the longest export path. */
export const EXPORT_PATH_MARGIN_SECONDS = 120;

/**
 * Lambda's limit on a cold start's init phase (AWS Lambda docs, "Understanding the Lambda execution environment
 * lifecycle": 10 s for on-demand functions; the function's timeout covers only the invoke phase). A Task waits for
 * both, so its TimeoutSeconds is the function's timeout plus this: the function's own timeout (Sandbox.Timedout)
 * decides, and Step Functions never gives up on a cold function that is still within its time — which would start
 * the Fargate fallback while the Lambda exporter keeps writing the same export.
 */
export const LAMBDA_INIT_LIMIT_SECONDS = 10;

/** The TimeoutSeconds of a Task that invokes a function with this timeout. */
export function lambdaTaskSeconds(functionTimeoutSeconds: number): number {
  return functionTimeoutSeconds + LAMBDA_INIT_LIMIT_SECONDS;
}

export type Settings = Omit<z.infer<typeof settingsSchema>, "functions"> & {
  /** Sizing of every function: stack config merged over the defaults. */
  readonly functions: Record<FunctionKey, FunctionSizing>;
};

/** Validates raw stack config values (already JSON-parsed); errors name the config key. */
export function parseSettings(raw: Record<string, unknown>): Settings {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `\`${i.path.join(".") || "(config)"}\`: ${i.message}`);
    throw new Error(`invalid stack config: ${problems.join("; ")}`);
  }
  const functions = Object.fromEntries(
    FUNCTION_KEYS.map((key) => {
      const merged = { ...DEFAULT_SIZING[key], ...(parsed.data.functions[key] ?? {}) };
      const checked = sizing.safeParse(merged);
      if (!checked.success) throw new Error(`invalid stack config: \`functions.${key}\`: ${checked.error.issues.map((i) => i.message).join("; ")}`);
      return [key, checked.data];
    }),
  ) as Record<FunctionKey, FunctionSizing>;
  const settings = { ...parsed.data, functions };
  checkCrossFieldRules(settings);
  return settings;
}

function checkCrossFieldRules(s: Settings): void {
  const payment = s.functions.paymentProcessing;
  if (s.paymentTimeoutMs >= payment.timeoutSeconds * 1000) {
    throw new Error(`invalid stack config: \`paymentTimeoutMs\` (${s.paymentTimeoutMs}) must be below \`functions.paymentProcessing.timeoutSeconds\` (${payment.timeoutSeconds} s) so a hung gateway surfaces as a retryable error`);
  }
  for (const key of ["exportSvg", "exportPdf"] as const) {
    if (s.functions[key].timeoutSeconds < s.exportLambdaBudgetSeconds) {
      throw new Error(`invalid stack config: \`functions.${key}.timeoutSeconds\` (${s.functions[key].timeoutSeconds}) must be at least \`exportLambdaBudgetSeconds\` (${s.exportLambdaBudgetSeconds})`);
    }
  }
  if (s.fargateHeartbeatSeconds >= s.fargateTimeoutSeconds) {
    throw new Error("invalid stack config: `fargateHeartbeatSeconds` must be below `fargateTimeoutSeconds`");
  }
  // Step Functions starts the heartbeat window when it starts the task: provisioning and the image pull use it up
  // before the worker can send its first heartbeat, and should that one be lost the next comes an interval later.
  const interval = fargateHeartbeatIntervalSeconds(s.fargateHeartbeatSeconds);
  if (s.fargateHeartbeatSeconds < s.fargateStartupAllowanceSeconds + interval) {
    throw new Error(
      `invalid stack config: \`fargateHeartbeatSeconds\` (${s.fargateHeartbeatSeconds}) must cover \`fargateStartupAllowanceSeconds\` (${s.fargateStartupAllowanceSeconds}) plus one heartbeat interval (${interval} s, a third of the window): ${s.fargateStartupAllowanceSeconds + interval} s at least`,
    );
  }
  if (s.fargateTimeoutSeconds < s.fargateStartupAllowanceSeconds + 60) {
    throw new Error(`invalid stack config: \`fargateTimeoutSeconds\` (${s.fargateTimeoutSeconds}) must leave the worker at least 60 s after \`fargateStartupAllowanceSeconds\` (${s.fargateStartupAllowanceSeconds})`);
  }
  // The longest path: record start, estimate, a Lambda attempt that times out, the Fargate task, record the outcome.
  // It must end inside the execution timeout, or the execution times out with no Catch and the job stays RUNNING.
  const f = s.functions;
  const longestPath =
    2 * lambdaTaskSeconds(f.exportJobStatus.timeoutSeconds) +
    lambdaTaskSeconds(f.exportEstimate.timeoutSeconds) +
    lambdaTaskSeconds(Math.max(f.exportSvg.timeoutSeconds, f.exportPdf.timeoutSeconds)) +
    s.fargateTimeoutSeconds +
    EXPORT_PATH_MARGIN_SECONDS;
  if (longestPath > s.exportWorkflowTimeoutSeconds) {
    throw new Error(
      `invalid stack config: \`exportWorkflowTimeoutSeconds\` (${s.exportWorkflowTimeoutSeconds}) must cover the longest export path, ${longestPath} s (job status ×2 + estimate + the slower exporter's timeout, each Task with Lambda's ${LAMBDA_INIT_LIMIT_SECONDS} s init limit on top, + \`fargateTimeoutSeconds\` + ${EXPORT_PATH_MARGIN_SECONDS} s margin)`,
    );
  }
  checkFargateSize(s.fargateCpu, s.fargateMemoryMb);
}

/** The worker heartbeats three times per HeartbeatSeconds window, so one lost call does not fail the job. */
export function fargateHeartbeatIntervalSeconds(heartbeatSeconds: number): number {
  return Math.max(1, Math.floor(heartbeatSeconds / 3));
}

/** Fargate accepts only certain CPU/memory pairs. */
function checkFargateSize(cpu: number, memoryMb: number): void {
  const ranges: Record<number, [number, number, number]> = {
    256: [512, 2048, 512],
    512: [1024, 4096, 1024],
    1024: [2048, 8192, 1024],
    2048: [4096, 16384, 1024],
    4096: [8192, 30720, 1024],
  };
  const [min, max, step] = ranges[cpu];
  const ok = cpu === 256 ? [512, 1024, 2048].includes(memoryMb) : memoryMb >= min && memoryMb <= max && memoryMb % step === 0;
  if (!ok) throw new Error(`invalid stack config: \`fargateMemoryMb\` ${memoryMb} is not valid with \`fargateCpu\` ${cpu} (Fargate allows ${min}–${max} MB in steps of ${step})`);
}

/** Config keys the program reads (besides the secret); used by readSettings and documented in the README. */
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof z.infer<typeof settingsSchema>)[];

/** Reads every setting from the stack config (values may be YAML scalars or objects). */
export function readSettings(config: pulumi.Config = new pulumi.Config()): Settings {
  return settingsFromConfig((key) => config.get(key));
}

/**
 * Builds settings from a config lookup that returns the raw string Pulumi stores for a key (structured values as
 * JSON), e.g. `pulumi.Config.get` or the values of a `Pulumi.<stack>.yaml` file.
 */
export function settingsFromConfig(get: (key: string) => string | undefined): Settings {
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = get(key);
    if (value === undefined) continue;
    raw[key] = parseConfigValue(value);
  }
  return parseSettings(raw);
}

/** Pulumi hands structured and numeric config over as strings; plain strings stay as they are. */
function parseConfigValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The payment gateway's API key, from secret config; it never appears in plain text in state or environment. */
export function readPaymentGatewayKey(config: pulumi.Config = new pulumi.Config()): pulumi.Output<string> {
  return config.requireSecret("paymentGatewayKey");
}
