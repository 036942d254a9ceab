/** Runs Trivy over the production image and the repository, and hands back its reports as a directory. */
import { CacheSharingMode, type Container, type Directory, dag } from "@dagger.io/dagger";
import { SCAN_EXCLUDED_DIRECTORIES } from "./lib/source-scope.js";
import {
  imageScanCommand,
  REPORT_FILES,
  sarifCommand,
  sbomCommand,
  sourceScanCommand,
  TRIVY_PATHS,
  vulnerabilityDbWindow,
} from "./lib/trivy-commands.js";

export interface TrivyInputs {
  trivyImage: string;
  /** The image to scan; exported as a tarball, so no registry is involved. */
  image: Container;
  source: Directory;
  now: Date;
}

/** Every report in one directory: image and source JSON and SARIF, and the image's CycloneDX SBOM. */
export function trivyReports({ trivyImage, image, source, now }: TrivyInputs): Directory {
  // Left out here rather than with Trivy's --skip-dirs, so what is scanned is decided once, in source-scope.ts.
  const scanned = SCAN_EXCLUDED_DIRECTORIES.reduce((dir, excluded) => dir.withoutDirectory(excluded), source);
  return (
    dag
      .container()
      .from(trivyImage)
      // The vulnerability database is downloaded once and kept; LOCKED because Trivy holds a lock on it.
      .withMountedCache(TRIVY_PATHS.cache, dag.cacheVolume("shipyard-trivy-cache"), {
        sharing: CacheSharingMode.Locked,
      })
      .withEnvVariable("TRIVY_CACHE_DIR", TRIVY_PATHS.cache)
      .withEnvVariable("TRIVY_NO_PROGRESS", "true")
      .withEnvVariable("SHIPYARD_VULNERABILITY_DB_WINDOW", vulnerabilityDbWindow(now))
      .withMountedFile(TRIVY_PATHS.imageTarball, image.asTarball())
      .withMountedDirectory(TRIVY_PATHS.source, scanned)
      .withExec(["mkdir", "-p", TRIVY_PATHS.reports])
      .withExec(imageScanCommand())
      .withExec(sourceScanCommand())
      .withExec(sarifCommand(REPORT_FILES.imageJson, REPORT_FILES.imageSarif))
      .withExec(sarifCommand(REPORT_FILES.sourceJson, REPORT_FILES.sourceSarif))
      .withExec(sbomCommand())
      .directory(TRIVY_PATHS.reports)
  );
}
