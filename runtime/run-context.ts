/** Who is running, and the tags, branch and namespace that follow from it (SPEC section 5). */
import { config } from "../src/core/config.js";
import type { CurrentState } from "../src/core/flow/current.js";

export function currentUser(): string {
  return config.user();
}

/** The run options that decide the identity; the flow's @project comes from its code. */
export interface IdentityOptions {
  production: boolean;
  branch?: string;
}

/** The `current` fields that follow from who runs, the run options and the flow's @project. */
export type RunIdentity = Pick<CurrentState, "username" | "isProduction" | "projectName" | "branchName" | "projectFlowName" | "namespace" | "systemTags">;

/**
 * Branches and their tags as Metaflow's @project names them: `prod`, `prod.<branch>`,
 * `test.<branch>` or `user.<username>`, tagged `project_branch:<branch>` (the project is in
 * its own `project:` tag), so `namespace("project_branch:user.alice")` finds alice's runs.
 */
export function runIdentity(options: IdentityOptions & { projectName: string | null; flowName: string }): RunIdentity {
  const username = currentUser();
  const { projectName, production } = options;
  const branch = options.branch ? `${production ? "prod" : "test"}.${options.branch}` : production ? "prod" : `user.${username}`;
  const systemTags = [`user:${username}`];
  if (projectName) systemTags.push(`project:${projectName}`, `project_branch:${branch}`);
  if (production) systemTags.push("runtime:production");
  return {
    username,
    isProduction: production,
    projectName,
    branchName: projectName ? branch : null,
    projectFlowName: projectName ? `${projectName}.${branch}.${options.flowName}` : null,
    namespace: production && projectName ? `project:${projectName}` : `user:${username}`,
    systemTags,
  };
}
