import { describe, expect, it } from "vitest";
import { parseUpdateStatus } from "../../src/commands/swarm.js";
import { parseEnvironments } from "../../src/config/environments.js";
import { Progress } from "../../src/progress.js";
import { parseJournal, swarmJournalText } from "../../src/release/journal.js";
import { releasePlan } from "../../src/release/release.js";
import {
  requireDataNode,
  requireManager,
  taskMonitorSeconds,
  updateOutcome,
} from "../../src/swarm/decisions.js";
import { environmentsYaml, localEntry, localEnvironment } from "../support/environment.js";
import { FakeRunner } from "../support/fake-runner.js";

const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJJQO9U4xiAIDiuV1MZH7Sg9AAGSD3J+2ljtZA70ZoCX";
const status = (state: string, startedAt: string) =>
  parseUpdateStatus(JSON.stringify({ State: state, Message: `${state} message`, StartedAt: startedAt }));

describe("a release on Swarm decides", () => {
  it("that only a manager takes a stack, in one line that says what to do", () => {
    expect(() => requireManager("active true\n", "m")).not.toThrow();
    expect(() => requireManager("active false", "deploy@w:22")).toThrow(
      "deploy@w:22 is a Swarm worker, not a manager: point target.host at a manager",
    );
    expect(() => requireManager("inactive false", "deploy@s:22")).toThrow(
      "deploy@s:22 is not in a swarm (docker info: inactive): run `docker swarm init` there",
    );
  });

  it("that the manager it reaches keeps the data, and how to label it", () => {
    expect(() => requireDataNode("true\n", "shipyard.data", "m")).not.toThrow();
    expect(() => requireDataNode("", "shipyard.data", "deploy@m:22")).toThrow(
      "run `docker node update --label-add shipyard.data=true",
    );
  });

  it("a journal the next run (and status) reads, in the single server's format: the config shipped, and whether Swarm took the stack", () => {
    const record = {
      release: "r9",
      env: "prod",
      who: "ops",
      at: "2026-12-03T10:00:00.000Z",
      image: "shop",
      digest: `sha256:${"ab".repeat(32)}`,
      result: "succeeded" as const,
    };
    const config = { base: "/srv/shop", snapshot: "/srv/shop/state/config-before-r9.tar", added: [] };
    const journal = parseJournal(swarmJournalText(record, { config, deployed: true }));
    expect(journal?.record).toEqual({ ...record, result: "rolled-back" });
    expect(journal?.left).toMatchObject({ config, switched: true, fresh: null, migrated: false });
    expect(parseJournal(swarmJournalText(record, { config: null, deployed: false }))?.left.switched).toBe(
      false,
    );
  });

  it("that the update it started is not the one before, until Swarm starts it", () => {
    const before = status("completed", "2026-12-03T10:00:00Z");
    expect(updateOutcome(before, before)).toBe("waiting");
    expect(updateOutcome(status("updating", "2026-12-03T10:05:00Z"), before)).toBe("waiting");
    expect(updateOutcome(status("completed", "2026-12-03T10:05:00Z"), before)).toBe("completed");
    expect(updateOutcome(status("rollback_completed", "2026-12-03T10:05:00Z"), before)).toBe("rolled back");
    expect(updateOutcome(status("paused", "2026-12-03T10:05:00Z"), before)).toBe("paused");
    // A service never updated before has no status: the first one seen is this deploy's.
    expect(updateOutcome(status("completed", "2026-12-03T10:05:00Z"), null)).toBe("completed");
    expect(updateOutcome(null, null)).toBe("waiting");
  });

  it("that Swarm watches each task briefly, and the watch window stays the CLI's", () => {
    expect(taskMonitorSeconds(30)).toBe(10);
    expect(taskMonitorSeconds(4)).toBe(4);
    expect(taskMonitorSeconds(0)).toBe(0);
  });
});

describe("target.kind: swarm", () => {
  it("is read with its defaults: two replicas, the shipyard.data label", () => {
    const file = parseEnvironments(
      environmentsYaml({
        prod: localEntry("/srv", {
          target: { kind: "swarm", host: "m.example.com", user: "deploy", hostKey },
        }),
      }),
      "environments.yaml",
    );
    expect(file.environments.prod?.target).toEqual({
      kind: "swarm",
      host: "m.example.com",
      user: "deploy",
      port: 22,
      hostKey,
      replicas: 2,
      dataLabel: "shipyard.data",
    });
  });

  it("plans lock, backup, shipped configuration, the stack rendered and deployed, Swarm's update, verify and watch, in that order", () => {
    const local = localEnvironment("/srv/x");
    const environment = {
      ...local,
      target: {
        kind: "swarm" as const,
        host: "m",
        user: "deploy",
        port: 22,
        hostKey,
        replicas: 3,
        dataLabel: "shipyard.data",
      },
    };
    const plan = releasePlan(
      {
        environment,
        runner: new FakeRunner(),
        progress: new Progress(() => {}),
        who: "ci",
        backup: async () => "never taken by a plan",
      },
      { image: `r/app@sha256:${"c".repeat(64)}`, release: "r2", migrate: true },
      { containers: [], volumes: [] },
      { holder: "ci", purpose: "deploy r2", since: "2026-12-03T10:00:00Z", token: "t" },
    );
    const steps = plan.map((s) => s.step);
    const at = (name: string) => steps.indexOf(name);
    expect(at("preflight: swarm manager")).toBeLessThan(at("lock"));
    expect(at("lock")).toBeLessThan(at("backup"));
    expect(at("backup")).toBeLessThan(at("render the stack"));
    expect(at("upstream for Swarm")).toBeLessThan(at("stack deploy"));
    expect(at("render the stack")).toBeLessThan(at("stack deploy"));
    expect(at("stack deploy")).toBeLessThan(at("wait for Swarm's update"));
    expect(at("wait for Swarm's update")).toBeLessThan(at("verify through nginx"));
    expect(at("verify through nginx")).toBeLessThan(at("ledger"));
    expect(steps.at(-1)).toBe("unlock");
    // Not one start beside, switch or stop: Swarm replaces the tasks.
    expect(steps).not.toContain("start beside");
    expect(steps).not.toContain("switch upstream");
    const render = plan.find((s) => s.step === "render the stack");
    expect(render?.note).toContain("3 app tasks updated start-first");
  });
});
