/** Whether a process of this machine still runs (EPERM: it does, as another user): who holds a lock or left a temporary file. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
