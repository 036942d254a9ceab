/** The Trivy command lines the module runs, as argv arrays, and where they leave their reports. */
import { cacheWindow } from "./cache-window.js";

/** Paths inside the Trivy container. */
export const TRIVY_PATHS = {
  cache: "/root/.cache/trivy",
  imageTarball: "/scan/image.tar",
  source: "/scan/src",
  reports: "/scan/reports",
} as const;

/** Report files, relative to TRIVY_PATHS.reports. */
export const REPORT_FILES = {
  imageJson: "image.json",
  imageSarif: "image.sarif",
  sourceJson: "source.json",
  sourceSarif: "source.sarif",
  sbom: "sbom.cdx.json",
} as const;

const report = (file: string) => `${TRIVY_PATHS.reports}/${file}`;

/**
 * All severities are reported; the gate (scan-gate.ts) decides what blocks, so the JSON and SARIF files show
 * everything and `--exit-code 0` keeps Trivy from failing before the reports are written.
 */
export function imageScanCommand(): string[] {
  return [
    "trivy",
    "image",
    "--input",
    TRIVY_PATHS.imageTarball,
    "--scanners",
    "vuln",
    "--format",
    "json",
    "--output",
    report(REPORT_FILES.imageJson),
    "--exit-code",
    "0",
  ];
}

/**
 * Dockerfile, compose and other config checks, plus committed secrets. Dependencies and build output are
 * already left out of the source directory the module receives.
 */
export function sourceScanCommand(): string[] {
  return [
    "trivy",
    "fs",
    "--scanners",
    "misconfig,secret",
    "--format",
    "json",
    "--output",
    report(REPORT_FILES.sourceJson),
    "--exit-code",
    "0",
    TRIVY_PATHS.source,
  ];
}

/** SARIF from a JSON report, without scanning again. */
export function sarifCommand(jsonFile: string, sarifFile: string): string[] {
  return ["trivy", "convert", "--format", "sarif", "--output", report(sarifFile), report(jsonFile)];
}

/** A CycloneDX SBOM of the image: every OS and Node package it ships. */
export function sbomCommand(): string[] {
  return [
    "trivy",
    "image",
    "--input",
    TRIVY_PATHS.imageTarball,
    "--format",
    "cyclonedx",
    "--output",
    report(REPORT_FILES.sbom),
  ];
}

/**
 * Set as an environment variable on the scan, it makes the engine run Trivy again once the window has passed
 * instead of serving a cached result judged against a stale vulnerability database; within the window,
 * repeated calls reuse the result.
 */
export function vulnerabilityDbWindow(now: Date, hours = 6): string {
  return cacheWindow(now, hours);
}

const REPORT_BY_TARGET_AND_FORMAT: Record<string, string> = {
  "IMAGE/JSON": REPORT_FILES.imageJson,
  "IMAGE/SARIF": REPORT_FILES.imageSarif,
  "SOURCE/JSON": REPORT_FILES.sourceJson,
  "SOURCE/SARIF": REPORT_FILES.sourceSarif,
};

/** The report file for a scan target (IMAGE or SOURCE) in a format (JSON or SARIF). */
export function reportFileName(target: string, format: string): string {
  const file = REPORT_BY_TARGET_AND_FORMAT[`${target}/${format}`];
  if (file === undefined) {
    throw new Error(
      `no ${format} report for ${target}: choose target IMAGE or SOURCE and format JSON or SARIF`,
    );
  }
  return file;
}
