import { expect } from "chai";
import * as z from "zod";
import { describeProblems, fieldPath, kindOf, plainMessages, preview, problemsOf } from "../../../handlers/shared/validation";

describe("validation messages", () => {
  it("renders a path as code would: keys joined by dots, indexes in brackets", () => {
    expect(fieldPath(["items", 0, "quantity"])).to.equal("items[0].quantity");
    expect(fieldPath([0, "sku"])).to.equal("[0].sku");
    expect(fieldPath([])).to.equal("");
  });

  it("names one problem per unknown key, and the payload itself as (root)", () => {
    const result = z.strictObject({ a: z.string() }).safeParse({ a: "x", b: 1, c: 2 });
    expect(problemsOf(result.error!, ["order"])).to.deep.equal([
      { field: "order.b", message: "is not a known field" },
      { field: "order.c", message: "is not a known field" },
    ]);
    expect(problemsOf(z.string({ error: "must be text" }).safeParse(1).error!)).to.deep.equal([{ field: "(root)", message: "must be text" }]);
  });

  it("spells out ten problems and counts the rest", () => {
    const problems = Array.from({ length: 12 }, (_, i) => ({ field: `items[${i}]`, message: "is wrong" }));
    const listed = problems.slice(0, 10).map((p) => `${p.field}: is wrong`).join("; ");

    expect(describeProblems(problems)).to.equal(`${listed} (and 2 more)`);
    expect(describeProblems(problems.slice(0, 10))).to.equal(listed);
  });

  it("previews a value as JSON, cut after 40 characters", () => {
    expect(preview(undefined)).to.equal("undefined");
    expect(preview("x".repeat(38))).to.equal(`"${"x".repeat(38)}"`);
    expect(preview("x".repeat(39))).to.equal(`"${"x".repeat(39)}…`);
    expect(preview({ a: 1 }, 3)).to.equal("{\"a…");
  });

  it("names the kind of a value in words", () => {
    expect([null, [], {}, Number.NaN, 1, "s", true].map(kindOf)).to.deep.equal([
      "null",
      "an array",
      "an object",
      "NaN",
      "a number",
      "a string",
      "a boolean",
    ]);
  });

  it("words a missing or mistyped value for rules that carry no message, and leaves other issues to their rule", () => {
    const messages = (schema: z.ZodType, input: unknown) => schema.safeParse(input, { error: plainMessages }).error!.issues.map((i) => i.message);

    expect(messages(z.object({ a: z.string() }), {})).to.deep.equal(["is required"]);
    expect(messages(z.array(z.string()), "x")).to.deep.equal(["must be an array, got a string"]);
    expect(messages(z.object({}), 1)).to.deep.equal(["must be an object, got a number"]);
    expect(messages(z.string(), 1)).to.deep.equal(["must be a string, got a number"]);
    expect(plainMessages({ code: "too_small", origin: "string", minimum: 1, input: "" } as unknown as z.core.$ZodRawIssue)).to.equal(undefined);
  });
});
