import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { workerContainerDefinitions, WorkerContainerProps } from "../../infra/export-worker-container";

const props: WorkerContainerProps = {
  name: "export-worker",
  image: "000000000000.dkr.ecr.eu-central-1.amazonaws.com/repo@sha256:abc",
  user: "1000:1000",
  // Keys on which a locale's collation and code-unit order disagree: ICU puts `_` before letters, Estonian Z before T.
  environment: { ZA_MODE: "z", TA_MODE: "t", AB: "1", A_B: "2", DOCUMENTS_BUCKET: "docs" },
  logGroup: "/ecs/shop-dev-export-worker",
  region: "eu-central-1",
};

describe("the export worker's container definitions", () => {
  it("renders one container: the image by digest, read-only root, only /tmp writable, init process, awslogs", () => {
    expect(JSON.parse(workerContainerDefinitions(props))).to.deep.equal([
      {
        name: "export-worker",
        image: "000000000000.dkr.ecr.eu-central-1.amazonaws.com/repo@sha256:abc",
        essential: true,
        user: "1000:1000",
        readonlyRootFilesystem: true,
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        environment: [
          { name: "AB", value: "1" },
          { name: "A_B", value: "2" },
          { name: "DOCUMENTS_BUCKET", value: "docs" },
          { name: "TA_MODE", value: "t" },
          { name: "ZA_MODE", value: "z" },
        ],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 30,
        logConfiguration: {
          logDriver: "awslogs",
          options: { "awslogs-group": "/ecs/shop-dev-export-worker", "awslogs-region": "eu-central-1", "awslogs-stream-prefix": "export" },
        },
      },
    ]);
  });

  it("renders the same string whatever order the environment was given in and whatever the machine's locale", () => {
    const reversed = { ...props, environment: Object.fromEntries(Object.entries(props.environment).reverse()) };
    expect(workerContainerDefinitions(reversed)).to.equal(workerContainerDefinitions(props));
    const script = `process.stdout.write(require("./infra/export-worker-container").workerContainerDefinitions(${JSON.stringify(props)}))`;
    const inEstonian = execFileSync(process.execPath, ["--require", "tsx/cjs", "-e", script], {
      cwd: path.resolve(__dirname, "..", ".."),
      env: { ...process.env, LC_ALL: "et_EE.UTF-8", LANG: "et_EE.UTF-8" },
      encoding: "utf8",
    });
    expect(inEstonian).to.equal(workerContainerDefinitions(props));
  });
});
