/** Polls a condition until it holds (returns a value other than undefined/false) or the deadline passes; the error names what was awaited. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000, intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
