import * as pulumi from "@pulumi/pulumi";
import { AlarmChannel } from "./infra/alarm-channel";
import { readPaymentGatewayKey, readSettings } from "./infra/config";
import { ExportPipeline, exportPipelineArgs } from "./infra/export-pipeline";
import { OrderPipeline, orderPipelineArgs } from "./infra/order-pipeline";

// Stack config → components → resources. Nothing else happens here.
const settings = readSettings();
const namePrefix = `${pulumi.getProject()}-${pulumi.getStack()}`;

const alarms = new AlarmChannel("alarms", { email: settings.alarmEmail });
const orders = new OrderPipeline("orders", orderPipelineArgs(settings, { namePrefix, paymentGatewayKey: readPaymentGatewayKey(), alarmTopicArn: alarms.topic.arn }));
const exportsPipeline = new ExportPipeline("exports", exportPipelineArgs(settings, { namePrefix, alarmTopicArn: alarms.topic.arn }));

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
