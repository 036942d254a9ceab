/** The repository whose compose/ and nginx/ configuration deploy and setup ship: this one, or SHIPYARD_CONFIG_SOURCE. */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const configSource = () =>
  path.resolve(process.env.SHIPYARD_CONFIG_SOURCE ?? fileURLToPath(new URL("../../../", import.meta.url)));
