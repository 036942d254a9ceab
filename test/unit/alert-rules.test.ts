/**
 * The alert rules of the monitoring profile, judged by promtool: they load, each fires on the synthetic
 * series that should fire it and stays quiet on those that should not (test/monitoring/alerts.test.yml),
 * and the metric the deploy CLI writes for the backup alert is one Prometheus reads as it is named there.
 */
import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BACKUP_TIME_METRIC, backupTimeText } from "../../deploy/src/backup/backup-time.js";
import type { BackupEntry } from "../../deploy/src/backup/catalog.js";
import { promtool } from "../harness/promtool.js";
import { makeScratchDir } from "../harness/scratch-dir.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RULES = "compose/monitoring/alerts.yml";
const RULE_TESTS = "test/monitoring/alerts.test.yml";
const read = (file: string) => parse(readFileSync(path.join(REPO_ROOT, file), "utf8"));

interface RuleFile {
  groups: { rules: { alert: string; expr: string }[] }[];
}
interface RuleTests {
  tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const alerts = (read(RULES) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.alert));
const cases = (read(RULE_TESTS) as RuleTests).tests.flatMap((t) => t.alert_rule_test);

describe("the alert rules", () => {
  it("load: promtool check rules", async () => {
    const check = await promtool(["check", "rules", RULES], { cwd: REPO_ROOT });
    expect(check.output).toContain("SUCCESS");
    expect(check.exitCode, check.output).toBe(0);
  });

  it("are the ones the seeds ask for, plus instance down and the backup's age", () => {
    expect(alerts.sort()).toEqual([
      "AppAbsent",
      "AppErrorRateHigh",
      "AppLatencyHigh",
      "AppMemoryHigh",
      "BackupAgeUnknown",
      "BackupTooOld",
      "DatabasePoolNearlyFull",
      "InstanceDown",
    ]);
  });

  it("each have a case where they fire and one where they do not", () => {
    for (const alert of alerts) {
      const own = cases.filter((c) => c.alertname === alert);
      expect(
        own.some((c) => c.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true);
      expect(
        own.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet somewhere`,
      ).toBe(true);
    }
  });

  it("fire exactly as the cases say: promtool test rules", async () => {
    const run = await promtool(["test", "rules", RULE_TESTS], { cwd: REPO_ROOT });
    expect(run.output).toContain("SUCCESS");
    expect(run.exitCode, run.output).toBe(0);
  });

  it("are loaded by prometheus.yml, which sends them to Alertmanager: promtool check config", async () => {
    const check = await promtool(["check", "config", "compose/monitoring/prometheus.yml"], {
      cwd: REPO_ROOT,
    });
    expect(check.output).toContain("SUCCESS: 1 rule files found");
    expect(check.exitCode, check.output).toBe(0);
    expect(read("compose/monitoring/prometheus.yml")).toMatchObject({
      rule_files: ["alerts.yml"],
      alerting: { alertmanagers: [{ static_configs: [{ targets: ["alertmanager:9093"] }] }] },
    });
  });

  it("read the backup time the deploy CLI writes, a metric promtool finds nothing wrong with", async () => {
    expect(readFileSync(path.join(REPO_ROOT, RULES), "utf8")).toContain(BACKUP_TIME_METRIC);
    const text = backupTimeText("prod", { createdAt: "2026-11-23T06:00:00.000Z" } as BackupEntry);
    const check = await promtool(["check", "metrics"], { stdin: text });
    expect(check.output).toBe("");
    expect(check.exitCode).toBe(0);
  });
});

describe("Alertmanager's configuration", () => {
  it("keeps the webhook's URL out of git: it is read from the file compose.yaml writes from the environment", () => {
    const config = read("compose/monitoring/alertmanager.yml") as {
      receivers: { name: string; webhook_configs?: Record<string, unknown>[] }[];
    };
    const webhooks = config.receivers.flatMap((r) => r.webhook_configs ?? []);
    expect(webhooks).toEqual([expect.objectContaining({ url_file: "/tmp/alert-webhook-url" })]);
    expect(webhooks.every((w) => !("url" in w))).toBe(true);
    const compose = readFileSync(path.join(REPO_ROOT, "compose/compose.yaml"), "utf8");
    expect(compose).toContain("> /tmp/alert-webhook-url");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's interpolation, not a template
    expect(compose).toContain("ALERT_WEBHOOK_URL: ${ALERT_WEBHOOK_URL:-}");
  });
});

describe("the Grafana dashboard", () => {
  it("asks Prometheus only queries it parses, panels and deploy annotations alike", async () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(REPO_ROOT, "compose/monitoring/grafana/dashboards/app.json"), "utf8"),
    ) as { panels: { targets: { expr: string }[] }[]; annotations: { list: { expr: string }[] } };
    const queries = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...dashboard.annotations.list.map((annotation) => annotation.expr),
    ];
    expect(queries.join("\n")).toMatch(/orders_placed_total[\s\S]*catalog_stock_units[\s\S]*app_build_info/);
    // promtool parses PromQL in rule files: one recording rule per query.
    const dir = await makeScratchDir("dashboard-queries");
    try {
      const rules = {
        groups: [{ name: "dashboard", rules: queries.map((expr, i) => ({ record: `q${i}`, expr })) }],
      };
      await writeFile(path.join(dir, "queries.yml"), JSON.stringify(rules));
      const check = await promtool(["check", "rules", "queries.yml"], { cwd: dir });
      expect(check.exitCode, check.output).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
