/** The module hands the webhook's URL to exactly the commands the deploy CLI notifies the webhook of. */
import { describe, expect, it } from "vitest";
import { NOTIFYING_COMMANDS } from "../../dagger/src/lib/deployer.js";
import { NOTIFIED } from "../../deploy/src/cli/operation-record.js";
import { moduleFunctions } from "../harness/module-functions.js";

describe("--webhook-url", () => {
  it("goes to the commands the CLI notifies, and to no other", () => {
    expect([...NOTIFYING_COMMANDS].sort()).toEqual([...NOTIFIED].sort());
  });

  it("is a Secret argument of each of those functions, and of no other", () => {
    const taking = [...moduleFunctions().values()]
      .filter((fn) => fn.parameters.has("webhookUrl"))
      .map((fn) => {
        expect(fn.parameters.get("webhookUrl"), fn.declaredName).toBe("Secret");
        return fn.declaredName;
      });
    expect(taking.sort()).toEqual([...NOTIFYING_COMMANDS].sort());
  });
});
