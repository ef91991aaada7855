import { SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";

/*
 * One client per service for the life of the container, with the SDK's default configuration: region from
 * AWS_REGION, endpoint from AWS_ENDPOINT_URL_<SERVICE> when the local cloud sets it. The `#__PURE__` marks let
 * esbuild drop a client the function does not use. The DynamoDB client lives in ./dynamo.ts because
 * @aws-sdk/lib-dynamodb is not marked side-effect free and would otherwise ride along in every bundle (~300 KB).
 */

export const sns = /* #__PURE__ */ new SNSClient({});

export const ssm = /* #__PURE__ */ new SSMClient({});
