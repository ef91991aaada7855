import * as pulumi from "@pulumi/pulumi";

/**
 * IAM identity-policy building blocks. Components describe what they need as `PolicyStatement`s on exact ARNs;
 * `renderPolicy` turns them into the JSON document. Plain functions, no Pulumi resources, testable without mocks.
 */
export interface PolicyStatement {
  /** Statement id: letters and digits only (IAM rule). */
  readonly sid: string;
  /** Exact actions (`service:Action`). Wildcards in actions are refused. */
  readonly actions: readonly string[];
  /** Exact resource ARNs. `"*"` only with `wildcardReason` set. */
  readonly resources: readonly pulumi.Input<string>[];
  /** Why `"*"` is the only resource this API accepts; required when `resources` contains `"*"`. */
  readonly wildcardReason?: string;
  /** IAM condition block, e.g. `{ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }`. */
  readonly condition?: Record<string, Record<string, pulumi.Input<string | string[]>>>;
}

/** A statement with every input resolved: what the workflow builder and the tests handle. */
export interface ResolvedStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly wildcardReason?: string;
  readonly condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: ReadonlyArray<{
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }>;
}

const ACTION = /^[a-z0-9-]+:[A-Za-z0-9]+$/;
const SID = /^[A-Za-z0-9]+$/;

/** Checks a resolved statement; throws with the statement id and what is wrong. */
export function checkStatement(statement: ResolvedStatement): void {
  if (!SID.test(statement.sid)) throw new Error(`policy statement \`sid\` "${statement.sid}" must be letters and digits only`);
  if (statement.actions.length === 0) throw new Error(`policy statement ${statement.sid}: \`actions\` is empty`);
  for (const action of statement.actions) {
    if (!ACTION.test(action)) throw new Error(`policy statement ${statement.sid}: action "${action}" must be an exact service:Action (no wildcards)`);
  }
  if (statement.resources.length === 0) throw new Error(`policy statement ${statement.sid}: \`resources\` is empty`);
  for (const resource of statement.resources) {
    if (resource === "*") {
      if (!statement.wildcardReason) throw new Error(`policy statement ${statement.sid}: resource "*" needs a \`wildcardReason\``);
    } else if (!resource.startsWith("arn:")) {
      throw new Error(`policy statement ${statement.sid}: resource "${resource}" is not an ARN`);
    } else if (resource.includes("*") && !resource.endsWith("/*") && !resource.endsWith(":*")) {
      throw new Error(`policy statement ${statement.sid}: resource "${resource}" may only end in "/*" or ":*" (object keys, log streams)`);
    }
  }
}

/** Renders resolved statements into a policy document: duplicate sids refused, actions and resources sorted. */
export function policyDocument(statements: readonly ResolvedStatement[]): PolicyDocument {
  const seen = new Set<string>();
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => {
      checkStatement(s);
      if (seen.has(s.sid)) throw new Error(`policy statement sid "${s.sid}" is used twice`);
      seen.add(s.sid);
      return {
        Sid: s.sid,
        Effect: "Allow" as const,
        Action: [...new Set(s.actions)].sort(),
        Resource: [...new Set(s.resources)].sort(),
        ...(s.condition ? { Condition: s.condition } : {}),
      };
    }),
  };
}

/** Resolves statements whose resources are Pulumi inputs, then renders the JSON document. */
export function renderPolicy(statements: readonly PolicyStatement[]): pulumi.Output<string> {
  return pulumi
    .output(statements.map((s) => ({ ...s, resources: s.resources, condition: s.condition })))
    .apply((resolved) => JSON.stringify(policyDocument(resolved as unknown as ResolvedStatement[])));
}

/** The trust policy that lets one AWS service assume a role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
