import * as path from "node:path";
import { Settings, settingsFromConfig } from "../infra/config";
import { loadStackConfig } from "../local/program/stack-config";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The settings a stack's `Pulumi.<stack>.yaml` yields, read the way the program reads them. */
export function stackSettings(stack: string): Settings {
  const config = loadStackConfig({ projectDir: PROJECT_ROOT, stack });
  return settingsFromConfig((key) => config.values[`${config.project}:${key}`]);
}
