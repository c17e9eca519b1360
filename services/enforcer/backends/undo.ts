/**
 * What a backend changed in its own picture of the kernel while queueing a
 * batch, so that a failed commit can take it back: the applier then retries
 * parts of the batch, and each add or delete must be planned against what the
 * kernel really holds, not against a batch that never landed.
 */
export class UndoLog {
  private steps: Array<() => void> = [];

  /** Remembers how to undo one change to the backend's picture. */
  record(step: () => void): void {
    this.steps.push(step);
  }

  /** The batch landed: nothing to undo. */
  keep(): void {
    this.steps = [];
  }

  /** The batch failed: undo its changes, newest first. */
  rollback(): void {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]!();
    this.steps = [];
  }
}
