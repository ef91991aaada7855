import * as pulumi from "@pulumi/pulumi";
import { AlarmChannel } from "./infra/alarm-channel";
import { readPaymentGatewayKey, readSettings } from "./infra/config";
import { ExportPipeline } from "./infra/export-pipeline";
import { OrderPipeline } from "./infra/order-pipeline";

// Stack config → components → resources. Nothing else happens here.
const settings = readSettings();
const namePrefix = `${pulumi.getProject()}-${pulumi.getStack()}`;

const alarms = new AlarmChannel("alarms", { email: settings.alarmEmail });

const orders = new OrderPipeline("orders", {
  namePrefix,
  sizing: settings.functions,
  paymentGatewayUrl: settings.paymentGatewayUrl,
  paymentGatewayKey: readPaymentGatewayKey(),
  paymentTimeoutMs: settings.paymentTimeoutMs,
  currency: settings.currency,
  supportedShipCountries: settings.supportedShipCountries,
  workflowTimeoutSeconds: settings.orderWorkflowTimeoutSeconds,
  logRetentionDays: settings.logRetentionDays,
  logLevel: settings.logLevel,
  alarmTopicArn: alarms.topic.arn,
});

const exportsPipeline = new ExportPipeline("exports", {
  namePrefix,
  sizing: settings.functions,
  secondsPerPage: { svg: settings.exportSecondsPerPageSvg, pdf: settings.exportSecondsPerPagePdf },
  lambdaBudgetSeconds: settings.exportLambdaBudgetSeconds,
  mapMaxConcurrency: settings.exportMapMaxConcurrency,
  exportRetentionDays: settings.exportRetentionDays,
  workflowTimeoutSeconds: settings.exportWorkflowTimeoutSeconds,
  fargate: {
    cpu: settings.fargateCpu,
    memoryMb: settings.fargateMemoryMb,
    network: settings.fargateNetwork,
    heartbeatSeconds: settings.fargateHeartbeatSeconds,
    timeoutSeconds: settings.fargateTimeoutSeconds,
  },
  logRetentionDays: settings.logRetentionDays,
  logLevel: settings.logLevel,
  alarmTopicArn: alarms.topic.arn,
});

export const orderStateMachineArn = orders.stateMachine.arn;
export const ordersTable = orders.ordersTable.name;
export const inventoryTable = orders.inventoryTable.name;
export const shipmentsTable = orders.shipmentsTable.name;
export const notificationsTopicArn = orders.notificationsTopic.arn;
export const failedNotificationsQueueUrl = orders.failedNotificationsQueue.url;
export const exportStateMachineArn = exportsPipeline.stateMachine.arn;
export const documentsBucket = exportsPipeline.bucket.bucket;
export const exportJobsTable = exportsPipeline.jobsTable.name;
export const exportWorkerImage = exportsPipeline.worker.image.imageUri;
export const exportWorkerCluster = exportsPipeline.worker.cluster.arn;
export const alarmTopicArn = alarms.topic.arn;
