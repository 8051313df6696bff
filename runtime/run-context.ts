/** Who is running, and the tags, branch and namespace that follow from it (SPEC section 5). */
import { userInfo } from "node:os";

export function currentUser(): string {
  if (process.env.FLOWRUN_USER) return process.env.FLOWRUN_USER;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}

export interface RunIdentity {
  username: string;
  isProduction: boolean;
  /** `prod`, `test.<name>` or `user.<username>`. */
  branchName: string;
  projectName: string | null;
  namespace: string;
  systemTags: string[];
}

export function runIdentity(options: { production: boolean; branch?: string; projectName: string | null }): RunIdentity {
  const username = currentUser();
  const branchName = options.production ? "prod" : options.branch ? `test.${options.branch}` : `user.${username}`;
  const systemTags = [`user:${username}`];
  if (options.projectName) systemTags.push(`project:${options.projectName}`, `project_branch:${options.projectName}.${branchName}`);
  if (options.production) systemTags.push("runtime:production");
  return {
    username,
    isProduction: options.production,
    branchName,
    projectName: options.projectName,
    namespace: options.production && options.projectName ? `project:${options.projectName}` : `user:${username}`,
    systemTags,
  };
}
