import { expect } from "chai";
import * as path from "node:path";
import { PROJECT_DIR } from "../../../local/cloud";
import { sharedMini } from "../support";

/**
 * A function sees only its deployment package: `/var/task` is read-only, `/tmp` the one writable place, and a
 * module the package does not contain cannot be imported, whatever the developer's machine has installed.
 * Sources: AWS Lambda docs, "Lambda execution environment" (/tmp, read-only file system) and "Deploy Node.js Lambda
 * functions with .zip file archives" (dependencies in the package); error type Runtime.ImportModuleError as the
 * Node.js runtime interface client reports an import failure.
 */
describe("fidelity: a function sees only its bundle", function () {
  this.timeout(60_000);

  it("fails a function importing a package its bundle lacks with Runtime.ImportModuleError 'Cannot find package', though the repository has it", async () => {
    const cloud = await sharedMini();
    const result = await cloud.lambda.invoke("mini-leaky", {});
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.error.errorType).to.equal("Runtime.ImportModuleError");
    expect(result.error.errorMessage).to.match(/Cannot find (package|module) '@aws-sdk\/client-sfn'/);
  });

  it("runs from a copy of the bundle outside the repository, which it may not write to; /tmp it may", async () => {
    const cloud = await sharedMini();
    const result = await cloud.lambda.invoke("mini-scribble", {});
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result.payload).to.deep.equal({ besideCode: "ERR_ACCESS_DENIED", tmp: "written" });
    const [env] = cloud.lambda.environmentsOf("mini-scribble");
    const relative = path.relative(PROJECT_DIR, env.codeDir);
    expect(relative.startsWith(".."), `${env.codeDir} is outside ${PROJECT_DIR}`).to.equal(true);
  });
});
