import { expect } from "chai";
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import type { LocalCloud } from "../../../local/cloud";
import { sharedMini } from "../support";

/**
 * DynamoDB's ConditionalCheckFailedException carries the item as it stood when the request asked for it with
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD` (DynamoDB API reference, PutItem / UpdateItem / DeleteItem, and
 * "ConditionalCheckFailedException — Item"); dynalite leaves it out, the local front door adds it.
 */
describe("fidelity: DynamoDB returns the item with a failed condition when asked", function () {
  this.timeout(60_000);
  let cloud: LocalCloud;
  let db: DynamoDBClient;
  let TableName: string;
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => expect.fail("the condition should have failed"),
      (e: unknown) => {
        expect(e).to.be.instanceOf(ConditionalCheckFailedException);
        return e as ConditionalCheckFailedException;
      },
    );

  before(async () => {
    cloud = await sharedMini();
    db = new DynamoDBClient(cloud.clientConfig());
    TableName = cloud.output("tableName") as string;
    await db.send(new PutItemCommand({ TableName, Item: { pk: { S: "fidelity-ddb" }, status: { S: "SHIPPED" }, n: { N: "3" } } }));
  });

  it("UpdateItem, PutItem and DeleteItem with ALL_OLD return the stored item in the exception", async () => {
    const stored = { pk: { S: "fidelity-ddb" }, status: { S: "SHIPPED" }, n: { N: "3" } };
    const condition = { ConditionExpression: "#s = :placed", ExpressionAttributeNames: { "#s": "status" }, ExpressionAttributeValues: { ":placed": { S: "PLACED" } } };
    const update = await refusal(
      db.send(new UpdateItemCommand({ TableName, Key: { pk: { S: "fidelity-ddb" } }, UpdateExpression: "SET n = :n", ...condition, ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ":n": { N: "4" } }, ReturnValuesOnConditionCheckFailure: "ALL_OLD" })),
    );
    expect(update.Item).to.deep.equal(stored);
    const put = await refusal(db.send(new PutItemCommand({ TableName, Item: { pk: { S: "fidelity-ddb" } }, ConditionExpression: "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" })));
    expect(put.Item).to.deep.equal(stored);
    const del = await refusal(db.send(new DeleteItemCommand({ TableName, Key: { pk: { S: "fidelity-ddb" } }, ...condition, ReturnValuesOnConditionCheckFailure: "ALL_OLD" })));
    expect(del.Item).to.deep.equal(stored);
  });

  it("returns no item without the option, or when there is no item", async () => {
    const without = await refusal(db.send(new PutItemCommand({ TableName, Item: { pk: { S: "fidelity-ddb" } }, ConditionExpression: "attribute_not_exists(pk)" })));
    expect(without.Item).to.equal(undefined);
    const missing = await refusal(
      db.send(new UpdateItemCommand({ TableName, Key: { pk: { S: "fidelity-ddb-missing" } }, UpdateExpression: "SET n = :n", ConditionExpression: "attribute_exists(pk)", ExpressionAttributeValues: { ":n": { N: "1" } }, ReturnValuesOnConditionCheckFailure: "ALL_OLD" })),
    );
    expect(missing.Item).to.equal(undefined);
    expect(missing.message).to.equal("The conditional request failed");
  });
});
