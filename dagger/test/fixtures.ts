import { readFileSync } from "node:fs";

/** A hand-written Trivy JSON report from fixtures/trivy (see its README). */
export function trivyFixture(name: string): string {
  return readFileSync(new URL(`./fixtures/trivy/${name}`, import.meta.url), "utf8");
}
