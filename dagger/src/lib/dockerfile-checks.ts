/**
 * The Dockerfile checks Trivy's misconfiguration scanner rates HIGH or CRITICAL, read the way Trivy reads
 * them, so a Dockerfile that would trip `scan`'s default gate is caught by a unit test, before any engine.
 * IDs are Trivy's (AVD-DS-*), so a failure here names the same check the scan would.
 */

export interface DockerfileFinding {
  id: string;
  line: number;
  message: string;
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with their first line, joining `\` continuations and dropping comments. */
export function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let current: Instruction | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && !current)) return;
    const continued = line.endsWith("\\");
    const body = continued ? line.slice(0, -1) : line;
    if (current) current.args += ` ${body}`;
    else {
      const [keyword = "", ...rest] = body.split(/\s+/);
      current = { keyword: keyword.toUpperCase(), args: rest.join(" "), line: index + 1 };
    }
    if (!continued) {
      result.push({ ...current, args: current.args.trim() });
      current = undefined;
    }
  });
  if (current) result.push(current);
  return result;
}

/** The build stages, each a list of instructions starting at its FROM. */
function stages(list: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of list) {
    if (instruction.keyword === "FROM") result.push([instruction]);
    else result.at(-1)?.push(instruction);
  }
  return result;
}

const commands = (run: string) => run.split(/&&|;|\|\|/).map((c) => c.trim());

export function checkDockerfile(text: string): DockerfileFinding[] {
  const findings: DockerfileFinding[] = [];
  const all = instructions(text);
  const built = stages(all);
  const aliases = new Map<string, number>();

  for (const stage of built) {
    const from = stage[0] as Instruction;
    const alias = /\sAS\s+(\S+)/i.exec(from.args)?.[1]?.toLowerCase();
    if (alias) {
      if (aliases.has(alias))
        findings.push({ id: "DS012", line: from.line, message: `stage alias "${alias}" is used twice` });
      aliases.set(alias, from.line);
    }
    for (const keyword of ["CMD", "ENTRYPOINT", "HEALTHCHECK"]) {
      const repeated = stage.filter((i) => i.keyword === keyword);
      const id = { CMD: "DS016", ENTRYPOINT: "DS007", HEALTHCHECK: "DS023" }[keyword] as string;
      if (repeated.length > 1)
        findings.push({ id, line: repeated[1]?.line ?? from.line, message: `more than one ${keyword}` });
    }
    for (const instruction of stage) {
      if (instruction.keyword === "WORKDIR" && !/^["']?(\/|\$)/.test(instruction.args))
        findings.push({ id: "DS009", line: instruction.line, message: "WORKDIR must be an absolute path" });
      if (instruction.keyword !== "RUN") continue;
      const parts = commands(instruction.args);
      const installs = parts.some((c) => /\bapt-get\b.*\binstall\b/.test(c));
      for (const c of parts) {
        if (/\bapt-get\b.*\binstall\b/.test(c) && !c.includes("--no-install-recommends"))
          findings.push({
            id: "DS029",
            line: instruction.line,
            message: "apt-get install without --no-install-recommends",
          });
        if (/\bapk\b.*\badd\b/.test(c) && !c.includes("--no-cache"))
          findings.push({ id: "DS025", line: instruction.line, message: "apk add without --no-cache" });
        if (/^sudo\b/.test(c))
          findings.push({ id: "DS010", line: instruction.line, message: "RUN uses sudo" });
      }
      if (parts.some((c) => /\b(apt-get|apt|apk|yum|dnf)\b.*\bupdate\b/.test(c)) && !installs)
        findings.push({
          id: "DS017",
          line: instruction.line,
          message: "a package index update alone in a RUN (its layer goes stale)",
        });
    }
  }

  // Trivy judges the user the image runs as: the final stage's last USER.
  const final = built.at(-1) ?? [];
  const user = final.filter((i) => i.keyword === "USER").at(-1);
  const name = user?.args.split(":")[0]?.trim();
  if (!user || name === "root" || name === "0")
    findings.push({
      id: "DS002",
      line: user?.line ?? final[0]?.line ?? 1,
      message: "the image runs as root: add a USER with a non-root user to the final stage",
    });
  return findings;
}
