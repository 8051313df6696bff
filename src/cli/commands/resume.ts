export async function run(_argv: string[]): Promise<number> {
  process.stderr.write("flowrun resume: not available yet\n");
  return 2;
}
