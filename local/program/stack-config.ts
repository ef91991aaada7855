import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { localStatePath } from "../state-dir";

// js-yaml comes with @pulumi/pulumi (which reads the same files); no @types package is installed for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require("js-yaml");

/**
 * The stack configuration the program reads, as the Pulumi CLI would hand it over: `Pulumi.<stack>.yaml` with keys
 * namespaced by project (`order-pipeline:fooBar`, `aws:region`), structured values as JSON strings.
 */
export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  /** Config map as the program sees it (namespaced keys, string values). */
  readonly values: Record<string, string>;
  /** Keys whose values are secrets (the program reads them with `requireSecret`). */
  readonly secretKeys: string[];
  /** Notes for the operator: which `secure:` values were replaced and which keys were overridden. */
  readonly notes: string[];
  /** `aws:region`, or us-east-1 like the provider's default. */
  readonly region: string;
}

export interface LoadStackConfigOptions {
  /** Folder holding `Pulumi.yaml` and `Pulumi.<stack>.yaml`. */
  readonly projectDir: string;
  /** @default "dev" */
  readonly stack?: string;
  /** Replaces values after loading (e.g. endpoints of external services the local cloud stands in for). */
  readonly overrides?: Record<string, string>;
}

/**
 * External services the local cloud stands in for, by the stack config keys that point the program at them. Only
 * their endpoints and credentials are rewritten; what the program does with them stays its own.
 */
export const PAYMENT_GATEWAY_URL_KEY = "paymentGatewayUrl";
export const PAYMENT_GATEWAY_SECRET_KEY = "paymentGatewayKey";

/**
 * Config keys whose values the local cloud picks per boot (the sandbox gateway's URL, with its port): a cached
 * resource graph is keyed without them and has them substituted on replay (graph-cache.ts).
 */
export function substitutableKeys(project: string): string[] {
  return [`${project}:${PAYMENT_GATEWAY_URL_KEY}`];
}

export class StackConfigError extends Error {
  override name = "StackConfigError";
}

/** Reads the project name from Pulumi.yaml, falling back to package.json's name. */
export function readProjectName(projectDir: string): string {
  const pulumiYaml = path.join(projectDir, "Pulumi.yaml");
  if (fs.existsSync(pulumiYaml)) {
    const doc = readYaml(pulumiYaml) as { name?: unknown } | undefined;
    if (typeof doc?.name === "string" && doc.name) return doc.name;
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { name?: string };
  if (!pkg.name) throw new StackConfigError(`no project name: ${pulumiYaml} is missing and package.json has no name`);
  return pkg.name;
}

/**
 * Loads `Pulumi.<stack>.yaml`. `secure:` values are ciphertext only the Pulumi service (or the stack's passphrase)
 * can decrypt, so each one is replaced with a generated local value: derived from a random salt kept per checkout
 * (`.local/secret-salt`, never committed), so nothing in the repository predicts it, and the same for every reader
 * and every boot of this checkout (the program, the sandbox gateway, a cached resource graph).
 */
export function loadStackConfig(options: LoadStackConfigOptions): StackConfig {
  const stack = options.stack ?? "dev";
  const project = readProjectName(options.projectDir);
  const file = path.join(options.projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new StackConfigError(`stack "${stack}" has no config file ${file}`);
  const doc = readYaml(file) as { config?: Record<string, unknown> } | undefined;
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const notes: string[] = [];
  const namespaced = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  const setSecret = (key: string, why: string) => {
    values[key] = localSecret(options.projectDir, stack, key);
    if (!secretKeys.includes(key)) secretKeys.push(key);
    notes.push(`${key}: ${why}; using a generated local secret`);
  };

  // Project-level declarations (Pulumi.yaml `config:`): defaults for every stack, and which keys are secrets.
  const declarations = projectConfig(options.projectDir);
  for (const [rawKey, decl] of Object.entries(declarations)) {
    const key = namespaced(rawKey);
    const declared = isDeclaration(decl) ? decl : { value: decl };
    const fallback = declared.value ?? declared.default;
    if (fallback !== undefined) values[key] = typeof fallback === "string" ? fallback : JSON.stringify(fallback);
    if (declared.secret) {
      secretKeys.push(key);
      if (fallback === undefined) setSecret(key, "declared secret with no value in the stack");
    }
  }

  for (const [rawKey, rawValue] of Object.entries(doc?.config ?? {})) {
    const key = namespaced(rawKey);
    if (isSecure(rawValue)) {
      setSecret(key, "secure value cannot be decrypted locally");
      continue;
    }
    if (containsSecure(rawValue)) {
      throw new StackConfigError(`${key}: secure values nested inside structured config are not supported locally`);
    }
    values[key] = typeof rawValue === "string" ? rawValue : JSON.stringify(rawValue);
    // A value given in the stack file replaces a generated one.
    const generated = notes.findIndex((n) => n.startsWith(`${key}: declared secret`));
    if (generated >= 0) notes.splice(generated, 1);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    values[key] = value;
    notes.push(`${key}: overridden for the local cloud (${preview(value)})`);
  }
  return { project, stack, values, secretKeys, notes, region: values["aws:region"] ?? "us-east-1" };
}

function readYaml(file: string): unknown {
  try {
    return yaml.load(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new StackConfigError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
}

function projectConfig(projectDir: string): Record<string, unknown> {
  const file = path.join(projectDir, "Pulumi.yaml");
  if (!fs.existsSync(file)) return {};
  const doc = readYaml(file) as { config?: Record<string, unknown> } | undefined;
  return doc?.config ?? {};
}

interface Declaration {
  readonly type?: string;
  readonly secret?: boolean;
  readonly default?: unknown;
  readonly value?: unknown;
  readonly description?: string;
}

function isDeclaration(value: unknown): value is Declaration {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => ["type", "secret", "default", "value", "description", "items"].includes(k));
}

function isSecure(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}

function containsSecure(value: unknown): boolean {
  if (isSecure(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecure);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecure);
  return false;
}

function localSecret(projectDir: string, stack: string, key: string): string {
  return `local-${createHash("sha256").update(`${localSalt(projectDir)}:${stack}:${key}`).digest("hex").slice(0, 32)}`;
}

const salts = new Map<string, string>();

/** The checkout's salt for generated secrets: created once, random; per process when `.local/` is not writable. */
function localSalt(projectDir: string): string {
  const file = localStatePath(projectDir, "secret-salt");
  let salt = salts.get(file);
  if (salt) return salt;
  try {
    salt = fs.readFileSync(file, "utf8").trim();
  } catch {
    salt = randomBytes(16).toString("hex");
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // Written beside it, then linked into place: of two processes creating it at once, the second reads what the
      // first wrote, never a half-written file.
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, salt, { mode: 0o600 });
      try {
        fs.linkSync(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        salt = fs.readFileSync(file, "utf8").trim();
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    } catch {
      // Not writable: a salt for this process only.
    }
  }
  salts.set(file, salt);
  return salt;
}

function preview(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
