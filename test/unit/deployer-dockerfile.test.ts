/** The module's recipe as the journey test builds it: each step as the Dockerfile instruction that does the same. */
import { describe, expect, it } from "vitest";
import { dockerfileOf } from "../journey/support/deployer-image.js";

describe("a recipe rendered as a Dockerfile", () => {
  it("keeps every step, in order, with exec argv exactly (JSON form) and values quoted", () => {
    const dockerfile = dockerfileOf({
      from: "node:24-bookworm-slim",
      caches: [{ path: "/root/.npm", volume: "npm", locked: false }],
      steps: [
        { exec: ["sh", "-c", "echo 'a b' > /x"] },
        { env: ["DAY", "2026-12-02 x"] },
        {
          copyFrom: {
            image: "docker:28.2.2-cli",
            from: "/usr/local/bin/docker",
            to: "/usr/local/bin/docker",
          },
        },
        { source: "/src" },
        { workdir: "/src" },
        { exec: ["npm", "ci"] },
      ],
    });
    expect(dockerfile).toBe(
      [
        "FROM node:24-bookworm-slim",
        `RUN ["sh","-c","echo 'a b' > /x"]`,
        'ENV DAY="2026-12-02 x"',
        "COPY --from=docker:28.2.2-cli /usr/local/bin/docker /usr/local/bin/docker",
        "COPY . /src",
        "WORKDIR /src",
        'RUN ["npm","ci"]',
        "",
      ].join("\n"),
    );
  });
});
