// uvu's suite with the errors of its before hooks printed: uvu 0.5 swallows such an error (its
// runner returns from a finally), prints only "(0 / N)" and exits 0. Here the error is printed as a
// FAIL line with its stack, which test/runner.ts reports, before uvu goes on as it does.
import { suite as uvuSuite } from "uvu";

type Hook = (fn: (ctx: Record<string, unknown>) => unknown) => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function suite<T = Record<string, any>>(name = "", state?: T): ReturnType<typeof uvuSuite<T>> {
  const t = uvuSuite<T>(name, state);
  const add = t.before as Hook & { each: Hook };
  const each = add.each;
  const before = ((fn) =>
    add(async (ctx) => {
      try {
        await fn(ctx);
      } catch (error) {
        console.error(`   FAIL  ${name}  "before hook: every test of the suite is counted as failed"\n${(error as Error).stack ?? String(error)}`);
        throw error;
      }
    })) as Hook & { each: Hook };
  before.each = each;
  (t as unknown as { before: Hook }).before = before;
  return t;
}
