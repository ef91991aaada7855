import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** The container's DynamoDB client; default SDK configuration, see ./clients.ts. */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  // Optional fields (`reason`) are left out rather than stored as NULL.
  marshallOptions: { removeUndefinedValues: true },
});

/** Matched by name, not `instanceof`: two copies of the SDK in one bundle would make `instanceof` lie. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** DynamoDB's answer when an update path goes through a map attribute that does not exist (checked on dynalite too). */
export function isInvalidDocumentPath(error: unknown): boolean {
  return error instanceof Error && error.name === "ValidationException" && /document path/i.test(error.message);
}
