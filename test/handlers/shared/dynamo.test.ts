import { expect } from "chai";
import { isConditionalCheckFailed, isInvalidDocumentPath } from "../../../handlers/shared/dynamo";

describe("DynamoDB error checks", () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });

  it("recognises a failed condition by the error's name", () => {
    expect(isConditionalCheckFailed(named("ConditionalCheckFailedException", "The conditional request failed"))).to.equal(true);
    expect(isConditionalCheckFailed(named("ValidationException", "The conditional request failed"))).to.equal(false);
    expect(isConditionalCheckFailed({ name: "ConditionalCheckFailedException" })).to.equal(false);
  });

  it("recognises an update through a missing map by name and message together", () => {
    const message = "The document path provided in the update expression is invalid for update";
    expect(isInvalidDocumentPath(named("ValidationException", message))).to.equal(true);
    expect(isInvalidDocumentPath(named("ConditionalCheckFailedException", message))).to.equal(false);
    expect(isInvalidDocumentPath(named("ValidationException", "ExpressionAttributeValues must not be empty"))).to.equal(false);
  });
});
