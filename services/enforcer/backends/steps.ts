import type { SetupStep } from './contract.ts';
import { describeCommand, FirewallCommandError, type Exec } from './exec.ts';

/** Runs set-up or tear-down steps in order: checks first, then the command; stops at the first real failure. */
export async function runSteps(exec: Exec, steps: readonly SetupStep[]): Promise<void> {
  for (const step of steps) {
    if (step.unless && (await exec.attempt(step.unless)).code === 0) continue;
    if (step.onlyIf && (await exec.attempt(step.onlyIf)).code !== 0) continue;
    const result = await exec.attempt(step.command);
    if (result.code !== 0 && !step.optional) throw new FirewallCommandError(describeCommand(step.command, exec.netns), result);
  }
}

/** The steps as shell lines an operator can read or run by hand. */
export function printSteps(steps: readonly SetupStep[], netns?: string): string {
  const lines = steps.map((step) => {
    const command = describeCommand(step.command, netns);
    if (step.unless) return `${describeCommand(step.unless, netns)} >/dev/null 2>&1 || ${command}`;
    if (step.onlyIf) return `${describeCommand(step.onlyIf, netns)} >/dev/null 2>&1 && ${command}`;
    return step.optional ? `${command} || true` : command;
  });
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
