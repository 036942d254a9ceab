/**
 * FakeRunner: a stand-in for the Runner that runs nothing. It records every command it is given, in
 * order, and answers each from a function of the command, so a test can check the exact commands an
 * operation executes and make any one of them fail.
 */
import type { Command } from "../../src/commands/argv.js";
import { type Attachment, CommandFailed, type Runner, type RunResult } from "../../src/runner.js";

export type Answer = Partial<RunResult> | Error | undefined;

export class FakeRunner implements Runner {
  readonly ran: Command[] = [];

  constructor(
    private readonly answer: (command: Command, index: number) => Answer = () => undefined,
    readonly where = "fake@host:22",
  ) {}

  /** The commands run for the operator (attach), with how they were attached; they are in `ran` too. */
  readonly attached: { command: Command; attachment: Attachment }[] = [];

  /** An attached command: its exit code is the answer's (default 0); its output is not kept. */
  async attach(command: Command, attachment: Attachment): Promise<number> {
    const index = this.ran.length;
    this.ran.push(command);
    this.attached.push({ command, attachment });
    const answer = this.answer(command, index);
    if (answer instanceof Error) throw answer;
    return answer?.exitCode ?? 0;
  }

  async run(command: Command): Promise<RunResult> {
    const index = this.ran.length;
    this.ran.push(command);
    const answer = this.answer(command, index);
    if (answer instanceof Error) throw answer;
    const result = { exitCode: 0, stdout: "", stderr: "", ...answer };
    if (result.exitCode !== 0 && !(command.okExitCodes ?? []).includes(result.exitCode))
      throw new CommandFailed(command.argv, result.exitCode, result.stderr, this.where);
    return result;
  }

  /** The argv of every command run, in order, each joined by spaces (readable in a failing diff). */
  get lines(): string[] {
    return this.ran.map((c) => c.argv.join(" "));
  }

  async close(): Promise<void> {}
}
