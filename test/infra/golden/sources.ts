import { ExportFunctionArns, exportWorkflow, ExportWorkerTarget, ExportWorkflowProps } from "../../../infra/export-workflow";
import { OrderFunctionArns, orderWorkflow, OrderWorkflowProps } from "../../../infra/order-workflow";

/**
 * What each golden file under test/infra/golden/ is rendered from: the workflow builders with fixed arguments. The
 * tests compare against the files; `npm run golden` (scripts/golden.ts) rewrites them after an intended change, and
 * the diff shows in review. Nothing else writes them.
 */
const alias = (name: string) => `arn:aws:lambda:eu-central-1:000000000000:function:shop-dev-${name}:live`;

export const ORDER_FUNCTIONS: OrderFunctionArns = {
  orderPlacement: alias("order-placement"),
  paymentProcessing: alias("payment-processing"),
  inventoryManagement: alias("inventory-management"),
  shipping: alias("shipping"),
  notification: alias("notification"),
  handlePaymentFailure: alias("handle-payment-failure"),
  refundPayment: alias("refund-payment"),
  releaseInventory: alias("release-inventory"),
  cancelOrder: alias("cancel-order"),
};

export const ORDER_PROPS: OrderWorkflowProps = {
  functions: ORDER_FUNCTIONS,
  timeouts: { ...(Object.fromEntries(Object.keys(ORDER_FUNCTIONS).map((k) => [k, 10])) as Record<keyof OrderFunctionArns, number>), paymentProcessing: 15 },
  notificationDlq: { url: "https://sqs.eu-central-1.amazonaws.com/000000000000/failed", arn: "arn:aws:sqs:eu-central-1:000000000000:failed" },
  timeoutSeconds: 900,
};

export const EXPORT_FUNCTIONS: ExportFunctionArns = {
  exportJobStatus: alias("export-job-status"),
  exportEstimate: alias("export-estimate"),
  exportSvg: alias("export-svg"),
  exportPdf: alias("export-pdf"),
  exportSplit: alias("export-split"),
  exportCombine: alias("export-combine"),
};

export const EXPORT_WORKER: ExportWorkerTarget = {
  clusterArn: "arn:aws:ecs:eu-central-1:000000000000:cluster/exports",
  taskDefinitionArn: "arn:aws:ecs:eu-central-1:000000000000:task-definition/shop-dev-export-worker:4",
  taskRoleArn: "arn:aws:iam::000000000000:role/shop-dev-export-task-role",
  executionRoleArn: "arn:aws:iam::000000000000:role/shop-dev-export-exec-role",
  containerName: "export-worker",
  subnetIds: ["subnet-a", "subnet-b"],
  securityGroupIds: ["sg-1"],
  assignPublicIp: false,
  heartbeatSeconds: 120,
  timeoutSeconds: 10_800,
};

export const EXPORT_PROPS: ExportWorkflowProps = {
  functions: EXPORT_FUNCTIONS,
  timeouts: { exportJobStatus: 10, exportEstimate: 30, exportSvg: 780, exportPdf: 780, exportSplit: 30, exportCombine: 600 },
  worker: EXPORT_WORKER,
  lambdaBudgetSeconds: 720,
  mapMaxConcurrency: 7,
  timeoutSeconds: 14_400,
};

export const GOLDEN_SOURCES: Record<string, () => unknown> = {
  "order-workflow": () => orderWorkflow(ORDER_PROPS).definition,
  "export-workflow": () => exportWorkflow(EXPORT_PROPS).definition,
};
