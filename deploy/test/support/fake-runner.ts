/**
 * FakeRunner: a stand-in for the Runner that runs nothing. It records every command it is given, in
 * order, and answers each from a function of the command, so a test can check the exact commands an
 * operation executes and make any one of them fail. A started command streams its answer's stdout and,
 * when it reads stdin (stdinFile), ends once its stdin has ended, keeping what it was fed.
 */
import { Readable, Writable } from "node:stream";
import type { Command } from "../../src/commands/argv.js";
import { CommandFailed, type Runner, type RunResult, type Started } from "../../src/runner.js";

export type Answer = Partial<RunResult> | Error | undefined;

export class FakeRunner implements Runner {
  readonly ran: Command[] = [];

  constructor(
    private readonly answer: (command: Command, index: number) => Answer = () => undefined,
    readonly where = "fake@host:22",
  ) {}

  /** What each started command read on its stdin. */
  readonly fed = new Map<Command, Buffer>();

  async run(command: Command): Promise<RunResult> {
    const index = this.ran.length;
    this.ran.push(command);
    return this.result(command, this.answer(command, index));
  }

  private result(command: Command, answer: Answer): RunResult {
    if (answer instanceof Error) throw answer;
    const result = { exitCode: 0, stdout: "", stderr: "", ...answer };
    if (result.exitCode !== 0 && !(command.okExitCodes ?? []).includes(result.exitCode))
      throw new CommandFailed(command.argv, result.exitCode, result.stderr, this.where);
    return result;
  }

  async start(command: Command): Promise<Started> {
    const index = this.ran.length;
    this.ran.push(command);
    const answer = this.answer(command, index);
    const output = answer && !(answer instanceof Error) ? (answer.stdout ?? "") : "";
    const chunks: Buffer[] = [];
    const stdin = new Writable({
      write(chunk: Buffer, _, done) {
        chunks.push(chunk);
        done();
      },
    });
    const inputEnded = new Promise<void>((resolve) => stdin.on("finish", resolve));
    let stop = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = () => reject(new CommandFailed(command.argv, undefined, "stopped (SIGTERM)", this.where));
    });
    const finished = (async () => {
      if (command.stdinFile) await inputEnded;
      this.fed.set(command, Buffer.concat(chunks));
      return { ...this.result(command, answer), stdout: "" };
    })();
    const done = Promise.race([finished, stopped]);
    done.catch(() => undefined);
    return { stdout: Readable.from(output ? [Buffer.from(output)] : []), stdin, done, stop };
  }

  /** The argv of every command run, in order, each joined by spaces (readable in a failing diff). */
  get lines(): string[] {
    return this.ran.map((c) => c.argv.join(" "));
  }

  async close(): Promise<void> {}
}
