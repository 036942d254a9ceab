/** Which scan a report comes from. */
export enum ScanTarget {
  /** The production image: its OS packages and Node dependencies. */
  Image = "IMAGE",
  /** The repository: Dockerfile, compose and other configuration, and committed secrets. */
  Source = "SOURCE",
}

/** The formats a scan report can be exported in. */
export enum ReportFormat {
  /** Trivy's own JSON report. */
  Json = "JSON",
  /** SARIF 2.1.0, as code-scanning services (GitHub, GitLab) read it. */
  Sarif = "SARIF",
}
