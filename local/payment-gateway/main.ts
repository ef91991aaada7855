import { parseArgs } from "node:util";
import { SANDBOX_API_KEY, startPaymentGateway } from "./server";

/**
 * Runs the sandbox payment gateway on its own:
 *   npx tsx local/payment-gateway/main.ts --port 4010 --key KEY [--host 127.0.0.1] [--hang-ms 30000]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "4010" },
      host: { type: "string", default: "127.0.0.1" },
      key: { type: "string" },
      "hang-ms": { type: "string", default: "30000" },
    },
    strict: true,
  });
  const port = Number(values.port);
  const hangMs = Number(values["hang-ms"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("`--port` must be an integer from 0 to 65535");
  if (!Number.isInteger(hangMs) || hangMs < 0) throw new Error("`--hang-ms` must be a non-negative integer");
  if (values.key === "") throw new Error("`--key` must not be empty");

  const gateway = await startPaymentGateway({ port, host: values.host, apiKey: values.key ?? SANDBOX_API_KEY, hangMs });
  console.log(`payment gateway sandbox listening on ${gateway.url} (key: ${values.key === undefined ? "the default sandbox key" : "from --key"})`);

  const stop = () => {
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
