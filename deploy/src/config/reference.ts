/**
 * The environments file's reference, rendered from its zod schema (descriptions, defaults, allowed values),
 * so docs/environments.md cannot drift from what the CLI accepts: `npm run docs:environments` rewrites the
 * block between the markers, and a unit test fails when the committed page differs from the schema.
 * Rendering is pure; only the last lines, run as a script, read and write the page.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { environmentsFileSchema } from "./environments.js";

export const REFERENCE_START =
  "<!-- reference: generated from deploy/src/config/environments.ts by `npm run docs:environments`; do not edit by hand -->";
export const REFERENCE_END = "<!-- end of the generated reference -->";

/** The part of JSON Schema that z.toJSONSchema writes for this file's schema. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  propertyNames?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  pattern?: string;
  format?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

interface Row {
  field: string;
  presence: string;
  values: string;
  meaning: string;
}

const code = (text: string) => `\`${text}\``;
const show = (value: unknown) => code(typeof value === "string" ? value : JSON.stringify(value));

/** What a value may be, in words, from the schema's constraints. */
function allowed(schema: JsonSchema): string {
  if (schema.const !== undefined) return show(schema.const);
  if (schema.enum) return schema.enum.map(show).join(", ");
  switch (schema.type) {
    case "integer":
    case "number": {
      const low =
        schema.exclusiveMinimum !== undefined
          ? `> ${schema.exclusiveMinimum}`
          : schema.minimum !== undefined
            ? `≥ ${schema.minimum}`
            : "";
      const high =
        schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${schema.maximum}` : "";
      const kind = schema.type === "integer" ? "integer" : "number";
      if (schema.minimum !== undefined && high) return `${kind} from ${schema.minimum} to ${schema.maximum}`;
      return [kind, low, high].filter(Boolean).join(" ");
    }
    case "string": {
      if (schema.format === "uri") return "URL";
      if (schema.format === "starts_with" && schema.pattern)
        return `string starting with ${code(schema.pattern.slice(1, -2).replace(/\\(.)/g, "$1"))}`;
      if (schema.pattern) return `string matching ${code(schema.pattern)}`;
      return schema.minLength ? "non-empty string" : "string";
    }
    case "array":
      return schema.items ? `list of: ${allowed(schema.items)}` : "list";
    case "boolean":
      return "`true` or `false`";
    case "object":
      return "object";
    default:
      return schema.oneOf || schema.anyOf ? "one of the shapes below" : "";
  }
}

function presence(name: string, parent: JsonSchema, schema: JsonSchema, only?: string): string {
  const when = only ? ` (${only})` : "";
  if (parent.required?.includes(name)) return `required${when}`;
  if (schema.default !== undefined && !(typeof schema.default === "object" && schema.default !== null))
    return `default ${show(schema.default)}${when}`;
  if (Array.isArray(schema.default) && schema.default.length === 0) return `default none${when}`;
  return `optional${when}`;
}

/** Every field of an object schema, depth first; the variants of a union are merged, their own fields marked. */
function rows(schema: JsonSchema, prefix: string): Row[] {
  const out: Row[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const field = `${prefix}${name}`;
    out.push({
      field: code(field),
      presence: presence(name, schema, child),
      values: allowed(child),
      meaning: child.description ?? "",
    });
    const variants = child.oneOf ?? child.anyOf;
    if (variants) out.push(...unionRows(variants, `${field}.`));
    else if (child.type === "object") out.push(...rows(child, `${field}.`));
  }
  return out;
}

/** A discriminated union: the discriminator once with each value's meaning, then each variant's own fields. */
function unionRows(variants: JsonSchema[], prefix: string): Row[] {
  const discriminator = Object.keys(variants[0]?.properties ?? {}).find((key) =>
    variants.every((v) => v.properties?.[key]?.const !== undefined),
  );
  if (!discriminator) throw new Error(`${prefix}: a union without a discriminator cannot be rendered`);
  const out: Row[] = [
    {
      field: code(`${prefix}${discriminator}`),
      presence: "required",
      values: variants.map((v) => show(v.properties?.[discriminator]?.const)).join(", "),
      meaning: variants
        .map((v) => {
          const tag = v.properties?.[discriminator];
          return `${show(tag?.const)}: ${tag?.description ?? ""}`.trim();
        })
        .join(" "),
    },
  ];
  for (const variant of variants) {
    const only = `${discriminator}: ${String(variant.properties?.[discriminator]?.const)}`;
    for (const [name, child] of Object.entries(variant.properties ?? {})) {
      if (name === discriminator) continue;
      out.push({
        field: code(`${prefix}${name}`),
        presence: presence(name, variant, child, only),
        values: allowed(child),
        meaning: child.description ?? "",
      });
    }
  }
  return out;
}

/** A GitHub table cell: a pipe would end the cell, even inside a code span. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

function table(list: Row[]): string {
  const lines = [
    "| field | presence | values | meaning |",
    "| --- | --- | --- | --- |",
    ...list.map((r) => `| ${[r.field, r.presence, r.values, r.meaning].map(cell).join(" | ")} |`),
  ];
  return lines.join("\n");
}

/** The reference as markdown: the file's top level, then every field of one environment. */
export function renderEnvironmentsReference(): string {
  const root = z.toJSONSchema(environmentsFileSchema, { io: "input" }) as JsonSchema;
  const environments = root.properties?.environments;
  const entry = environments?.additionalProperties;
  if (!environments || typeof entry !== "object") throw new Error("environments: expected a record schema");
  // Every top-level field but the environments, whose entry gets its own table below.
  const { environments: _entries, ...rest } = root.properties ?? {};
  const top: Row[] = [
    ...rows({ ...root, properties: rest }, ""),
    {
      field: code("environments.NAME"),
      presence: presence("environments", root, environments),
      values: `NAME: ${environments.propertyNames ? allowed(environments.propertyNames) : "string"}`,
      meaning: environments.description ?? "",
    },
  ];
  return [
    "The file:",
    "",
    table(top),
    "",
    "Each environment (`environments.NAME`); no other key is accepted:",
    "",
    table(rows(entry, "")),
  ].join("\n");
}

/** The page with its generated block replaced; the prose around it stays as written. */
export function withReference(page: string, reference: string): string {
  const start = page.indexOf(REFERENCE_START);
  const end = page.indexOf(REFERENCE_END);
  if (start < 0 || end < start)
    throw new Error(`the page needs the two markers:\n${REFERENCE_START}\n${REFERENCE_END}`);
  return `${page.slice(0, start + REFERENCE_START.length)}\n\n${reference}\n\n${page.slice(end)}`;
}

/**
 * Tables compared cell by cell: the formatter (biome) pads cells and separator rows to align columns,
 * which changes no content.
 */
export function normalizeTables(markdown: string): string {
  return markdown
    .split("\n")
    .map((line) => {
      if (!line.startsWith("|")) return line.trimEnd();
      const cells = line
        .slice(1, line.trimEnd().length - 1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim())
        .map((c) => (/^:?-+:?$/.test(c) ? "---" : c));
      return `| ${cells.join(" | ")} |`;
    })
    .join("\n");
}

export const REFERENCE_PAGE = fileURLToPath(new URL("../../../docs/environments.md", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const page = await readFile(REFERENCE_PAGE, "utf8");
  await writeFile(REFERENCE_PAGE, withReference(page, renderEnvironmentsReference()));
  console.log(`wrote the environments reference into ${REFERENCE_PAGE}`);
}
