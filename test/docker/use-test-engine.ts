/** Setup file of the Docker tests: every docker and compose call a test makes goes to the run's engine. */
import { inject } from "vitest";

process.env.DOCKER_HOST = inject("dockerHost");
