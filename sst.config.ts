/// <reference path="./.sst/platform/config.d.ts" />
// The AWS deployment of the BBS; see infra/DEPLOYING.md. Each piece lives in a small file in infra/.
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "bbs",
      home: "aws",
      // Production keeps its table (and refuses `sst remove`); other stages are torn down whole.
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { version: "7.20.0" } },
    };
  },
  async run() {
    const { table } = await import("./infra/table");
    const { api } = await import("./infra/api");
    const { eventFunctions } = await import("./infra/events");
    const { storeChangesFailures } = await import("./infra/streams");
    await import("./infra/convergence");
    return {
      api: api.url,
      events: eventFunctions[0]?.url,
      table: table.name,
      storeChangesFailures: storeChangesFailures.url,
    };
  },
});
