import { describe, expect, it } from "vitest";
import {
  imageScanCommand,
  REPORT_FILES,
  reportFileName,
  sarifCommand,
  sbomCommand,
  sourceScanCommand,
  TRIVY_PATHS,
  vulnerabilityDbWindow,
} from "../src/lib/trivy-commands.js";

function outputOf(argv: string[]): string | undefined {
  const i = argv.indexOf("--output");
  return i === -1 ? undefined : argv[i + 1];
}

describe("the Trivy commands", () => {
  const commands = [
    imageScanCommand(),
    sourceScanCommand(),
    sarifCommand(REPORT_FILES.imageJson, REPORT_FILES.imageSarif),
    sarifCommand(REPORT_FILES.sourceJson, REPORT_FILES.sourceSarif),
    sbomCommand(),
  ];

  it("write every report the module hands out, and only into the reports folder", () => {
    const written = commands.map(outputOf);
    expect(written.every((path) => path?.startsWith(`${TRIVY_PATHS.reports}/`))).toBe(true);
    for (const file of Object.values(REPORT_FILES)) {
      expect(written).toContain(`${TRIVY_PATHS.reports}/${file}`);
    }
  });

  it("never let Trivy fail the run before the reports exist: the gate decides", () => {
    for (const argv of [imageScanCommand(), sourceScanCommand()]) {
      expect(argv.slice(argv.indexOf("--exit-code"), argv.indexOf("--exit-code") + 2)).toEqual([
        "--exit-code",
        "0",
      ]);
    }
  });

  it("scan the repository for configuration mistakes and secrets, and the image for vulnerabilities", () => {
    expect(sourceScanCommand()).toEqual(
      expect.arrayContaining(["fs", "misconfig,secret", TRIVY_PATHS.source]),
    );
    expect(imageScanCommand()).toEqual(
      expect.arrayContaining(["image", "--input", TRIVY_PATHS.imageTarball, "vuln"]),
    );
  });
});

describe("choosing a report", () => {
  it("maps each target and format to its file", () => {
    expect(reportFileName("IMAGE", "SARIF")).toBe(REPORT_FILES.imageSarif);
    expect(reportFileName("SOURCE", "JSON")).toBe(REPORT_FILES.sourceJson);
  });

  it("explains the valid choices for anything else", () => {
    expect(() => reportFileName("IMAGE", "XML")).toThrow(
      /choose target IMAGE or SOURCE and format JSON or SARIF/,
    );
  });
});

describe("the vulnerability database window", () => {
  it("stays the same within six hours and changes at the boundary (UTC)", () => {
    expect(vulnerabilityDbWindow(new Date("2026-08-20T06:00:00Z"))).toBe("2026-08-20T06");
    expect(vulnerabilityDbWindow(new Date("2026-08-20T11:59:59Z"))).toBe("2026-08-20T06");
    expect(vulnerabilityDbWindow(new Date("2026-08-20T12:00:00Z"))).toBe("2026-08-20T12");
    expect(vulnerabilityDbWindow(new Date("2026-08-20T23:59:59Z"))).toBe("2026-08-20T18");
  });

  it("accepts other windows that divide a day, and refuses the rest", () => {
    expect(vulnerabilityDbWindow(new Date("2026-08-20T13:30:00Z"), 1)).toBe("2026-08-20T13");
    expect(vulnerabilityDbWindow(new Date("2026-08-20T13:30:00Z"), 24)).toBe("2026-08-20T00");
    expect(() => vulnerabilityDbWindow(new Date(), 5)).toThrow(RangeError);
  });
});
