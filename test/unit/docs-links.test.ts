/**
 * The README is a front page that sends readers into docs/, and the docs send them to each other and to
 * the code: every relative link in README.md and docs/*.md must reach a file or folder of the repository,
 * and a link to a heading (#anchor) a heading that exists, so moving or renaming a page breaks a test,
 * not a reader's click.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const pages = [
  "README.md",
  ...readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Markdown without fenced and indented code blocks or inline code, where `[x](y)` is not a link. */
function prose(markdown: string): string {
  const kept: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (fence === null || fence === marker)) {
      fence = fence === null ? marker : null;
      continue;
    }
    if (fence !== null || /^( {4}|\t)/.test(line)) continue;
    kept.push(line.replace(/`[^`]*`/g, ""));
  }
  return kept.join("\n");
}

/** Inline links and images: `[text](target)` and `![alt](target "title")`. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1] ?? "",
  );
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | null = null;
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (fence === null || fence === marker)) fence = fence === null ? marker : null;
    const heading = fence === null ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1] : undefined;
    if (heading === undefined) continue;
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** What is wrong with one page's relative links; empty when every one resolves. */
function brokenLinks(page: string): string[] {
  const text = readFileSync(path.join(root, page), "utf8");
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (isExternal(target)) continue;
    const [file = "", anchor] = target.split("#", 2);
    const resolved =
      file === "" ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), file);
    if (!resolved.startsWith(root) || !existsSync(resolved)) {
      broken.push(`${page}: ${target} (no such file)`);
      continue;
    }
    if (
      anchor !== undefined &&
      !headingAnchors(readFileSync(resolved, "utf8")).has(decodeURIComponent(anchor))
    )
      broken.push(`${page}: ${target} (no such heading in ${path.relative(root, resolved)})`);
  }
  return broken;
}

describe("links between README.md and docs/", () => {
  it.each(pages)("every relative link in %s reaches an existing file and heading", (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it("README links every page in docs/, so none is orphaned", () => {
    const targets = new Set(linkTargets(readFileSync(path.join(root, "README.md"), "utf8")));
    const unlinked = pages.filter((page) => page.startsWith("docs/") && !targets.has(page));
    expect(unlinked).toEqual([]);
  });

  it("README stays a front page, under 8 KB", () => {
    expect(readFileSync(path.join(root, "README.md")).byteLength).toBeLessThan(8192);
  });

  it("README's deploy section starts with the words a person types, on a line of their own", () => {
    const lines = readFileSync(path.join(root, "README.md"), "utf8").split("\n");
    const heading = lines.findIndex((line) => /^## Deploy\b/.test(line));
    expect(heading, "a `## Deploy` section").toBeGreaterThan(-1);
    // The section's first content, past blank lines and the fence that opens its code block.
    const first = lines.slice(heading + 1).find((line) => line.trim() !== "" && !/^```/.test(line));
    expect(first).toBe("dagger call deploy --env=prod");
  });
});

describe("the link reader", () => {
  it("finds inline links and images, not the ones in code", () => {
    const markdown = [
      'See [a](docs/a.md) and ![b](img/b.png "title").',
      "`[not](a-link.md)`",
      "```sh",
      "[not](either.md)",
      "```",
      "    [indented](code.md)",
      "[c](docs/c.md#part) [web](https://example.com)",
    ].join("\n");
    expect(linkTargets(markdown)).toEqual([
      "docs/a.md",
      "img/b.png",
      "docs/c.md#part",
      "https://example.com",
    ]);
  });

  it("names headings the way GitHub does", () => {
    const anchors = headingAnchors("# Deploy and roll back\n## `local` through Dagger\n## Tests\n## Tests\n");
    expect([...anchors]).toEqual(["deploy-and-roll-back", "local-through-dagger", "tests", "tests-1"]);
  });

  it("leaves links with a scheme (https:, mailto:) to the outside world", () => {
    expect(isExternal("mailto:x@example.com")).toBe(true);
    expect(isExternal("docs/deploy.md")).toBe(false);
  });
});
